-- drift case function_security_definer: the change
ALTER FUNCTION f() SECURITY DEFINER;
