-- drift case procedure_add_drop: the change
DROP PROCEDURE p(text);
CREATE PROCEDURE q() LANGUAGE sql AS 'SELECT 1';
