-- drift case function_volatility: the change
ALTER FUNCTION f() STABLE;
ALTER FUNCTION g() VOLATILE;
