-- drift case function_security_definer: starting schema
CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1';
