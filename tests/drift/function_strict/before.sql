-- drift case function_strict: starting schema
CREATE FUNCTION f(a integer) RETURNS integer LANGUAGE sql AS 'SELECT a';
CREATE FUNCTION g(a integer) RETURNS integer LANGUAGE sql STRICT AS 'SELECT a';
