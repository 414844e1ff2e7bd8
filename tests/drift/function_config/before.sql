-- drift case function_config: starting schema
CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION g() RETURNS integer LANGUAGE sql SET search_path = public AS 'SELECT 1';
CREATE FUNCTION h() RETURNS integer LANGUAGE sql SET work_mem = '4MB' AS 'SELECT 1';
