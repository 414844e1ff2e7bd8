-- drift case function_parallel: the change
ALTER FUNCTION f() PARALLEL SAFE;
ALTER FUNCTION g() PARALLEL RESTRICTED;
