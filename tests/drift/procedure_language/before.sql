-- drift case procedure_language: starting schema
CREATE TABLE t (a integer);
CREATE PROCEDURE p(v integer) LANGUAGE sql AS $$INSERT INTO t VALUES (v)$$;
