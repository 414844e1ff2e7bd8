-- drift case matview_access_method: starting schema
CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;
CREATE TABLE t (a integer);
CREATE MATERIALIZED VIEW mv AS SELECT a FROM t;
