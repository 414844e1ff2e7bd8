-- drift case function_volatility: starting schema
CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION g() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 1';
