-- drift case table_unlogged_logged: starting schema
CREATE TABLE t1 (a integer);
CREATE UNLOGGED TABLE t2 (a integer);
