-- drift case function_language: starting schema
CREATE FUNCTION f(a integer) RETURNS integer LANGUAGE sql AS $$SELECT a$$;
