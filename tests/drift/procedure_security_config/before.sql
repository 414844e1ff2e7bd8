-- drift case procedure_security_config: starting schema
CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1';
