-- drift case procedure_security_config: the change
ALTER PROCEDURE p() SECURITY DEFINER SET search_path = public;
