-- drift case function_overload: starting schema
CREATE FUNCTION f(a integer) RETURNS text LANGUAGE sql AS 'SELECT a::text';
CREATE FUNCTION f(a date) RETURNS text LANGUAGE sql AS 'SELECT a::text';
