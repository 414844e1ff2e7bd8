-- drift case index_on_matview: starting schema
CREATE TABLE t (a integer);
CREATE MATERIALIZED VIEW mv AS SELECT a FROM t;
