-- drift case function_body_sql_standard: the change
CREATE OR REPLACE FUNCTION g(a integer) RETURNS integer LANGUAGE sql RETURN a * 3;
CREATE OR REPLACE FUNCTION h(a integer) RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT a + 2; END;
