-- drift case function_cost_rows_leakproof: the change
ALTER FUNCTION f() COST 10 ROWS 5;
ALTER FUNCTION g(integer) LEAKPROOF;
