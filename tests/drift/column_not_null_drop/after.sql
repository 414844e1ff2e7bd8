-- drift case column_not_null_drop: the change
ALTER TABLE t ALTER COLUMN name DROP NOT NULL;
