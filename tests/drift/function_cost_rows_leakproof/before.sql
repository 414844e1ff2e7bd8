-- drift case function_cost_rows_leakproof: starting schema
CREATE FUNCTION f() RETURNS SETOF integer LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION g(a integer) RETURNS boolean LANGUAGE sql AS 'SELECT a > 0';
