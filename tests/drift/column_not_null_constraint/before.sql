-- drift case column_not_null_constraint: starting schema
CREATE TABLE t (a integer, b integer, c integer, d integer NOT NULL);
INSERT INTO t VALUES (1, NULL, 1, 1);
