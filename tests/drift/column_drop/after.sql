-- drift case column_drop: the change
ALTER TABLE t DROP COLUMN b;
