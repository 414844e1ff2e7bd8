-- drift case function_config: the change
ALTER FUNCTION f() SET search_path = pg_catalog, public;
ALTER FUNCTION g() SET search_path = pg_temp;
ALTER FUNCTION h() RESET work_mem;
