-- drift case function_returns: the change
DROP FUNCTION f(integer);
CREATE FUNCTION f(a integer) RETURNS bigint LANGUAGE sql AS 'SELECT a';
