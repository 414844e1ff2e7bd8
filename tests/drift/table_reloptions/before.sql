-- drift case table_reloptions: starting schema
CREATE TABLE t (a integer) WITH (fillfactor = 90, autovacuum_enabled = false);
CREATE TABLE u (a integer);
CREATE VIEW v AS SELECT a FROM u;
