-- drift case procedure_arguments: the change
CREATE OR REPLACE PROCEDURE p(a integer, b integer DEFAULT 2) LANGUAGE sql AS 'SELECT 1';
