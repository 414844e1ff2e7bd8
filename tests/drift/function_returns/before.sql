-- drift case function_returns: starting schema
CREATE FUNCTION f(a integer) RETURNS integer LANGUAGE sql AS 'SELECT a';
