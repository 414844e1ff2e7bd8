-- drift case function_overload: the change
CREATE FUNCTION f(a text) RETURNS text LANGUAGE sql AS 'SELECT a';
DROP FUNCTION f(date);
