-- drift case table_unlogged_logged: the change
ALTER TABLE t1 SET UNLOGGED;
ALTER TABLE t2 SET LOGGED;
