-- drift case view_add_drop: starting schema
CREATE TABLE t (a integer, b text);
CREATE VIEW old_v AS SELECT a FROM t;
