-- drift case view_options: starting schema
CREATE TABLE t (a integer);
CREATE VIEW v AS SELECT a FROM t WHERE a > 0;
