-- drift case function_arguments: the change
CREATE OR REPLACE FUNCTION f(a integer, b integer DEFAULT 2) RETURNS integer LANGUAGE sql AS 'SELECT a + b';
