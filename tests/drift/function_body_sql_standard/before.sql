-- drift case function_body_sql_standard: starting schema (SQL-standard bodies are 14+)
CREATE FUNCTION g(a integer) RETURNS integer LANGUAGE sql RETURN a * 2;
CREATE FUNCTION h(a integer) RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT a + 1; END;
