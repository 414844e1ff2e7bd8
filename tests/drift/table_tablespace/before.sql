-- drift case table_tablespace: starting schema
SET allow_in_place_tablespaces = true;
CREATE TABLESPACE drift_ts LOCATION '';
CREATE TABLE t (a integer);
CREATE INDEX t_a ON t (a);
CREATE TABLE u (a integer);
CREATE MATERIALIZED VIEW mv AS SELECT a FROM u;
