-- drift case function_parallel: starting schema
CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION g() RETURNS integer LANGUAGE sql PARALLEL SAFE AS 'SELECT 1';
