-- drift case table_access_method: the change
ALTER TABLE t SET ACCESS METHOD heap2;
