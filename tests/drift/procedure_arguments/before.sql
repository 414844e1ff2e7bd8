-- drift case procedure_arguments: starting schema
CREATE PROCEDURE p(a integer, b integer DEFAULT 1) LANGUAGE sql AS 'SELECT 1';
