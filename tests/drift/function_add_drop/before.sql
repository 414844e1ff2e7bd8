-- drift case function_add_drop: starting schema
CREATE FUNCTION old_f() RETURNS integer LANGUAGE sql AS 'SELECT 1';
