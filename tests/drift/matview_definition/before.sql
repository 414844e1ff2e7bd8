-- drift case matview_definition: starting schema
CREATE TABLE t (a integer, b text);
CREATE MATERIALIZED VIEW mv AS SELECT a FROM t;
