-- drift case function_arguments: starting schema
CREATE FUNCTION f(a integer, b integer DEFAULT 1) RETURNS integer LANGUAGE sql AS 'SELECT a + b';
