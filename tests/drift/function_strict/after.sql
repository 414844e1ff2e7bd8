-- drift case function_strict: the change
ALTER FUNCTION f(integer) STRICT;
ALTER FUNCTION g(integer) CALLED ON NULL INPUT;
