-- drift case view_definition: starting schema
CREATE TABLE t (a integer, b text);
CREATE VIEW v AS SELECT a FROM t WHERE a > 0;
