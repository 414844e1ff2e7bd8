-- drift case function_language: the change
CREATE OR REPLACE FUNCTION f(a integer) RETURNS integer LANGUAGE plpgsql AS $$BEGIN RETURN a; END$$;
