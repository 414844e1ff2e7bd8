-- drift case function_add_drop: the change
DROP FUNCTION old_f();
CREATE FUNCTION new_f(a integer, b text DEFAULT 'x') RETURNS integer LANGUAGE sql AS 'SELECT 2';
