-- drift case procedure_add_drop: starting schema
CREATE PROCEDURE p(a integer) LANGUAGE sql AS 'SELECT 1';
CREATE PROCEDURE p(a text) LANGUAGE sql AS 'SELECT 1';
