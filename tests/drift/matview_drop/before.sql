-- drift case matview_drop: starting schema
CREATE TABLE t (a integer);
CREATE MATERIALIZED VIEW mv AS SELECT a FROM t;
CREATE INDEX mv_a_idx ON mv (a);
