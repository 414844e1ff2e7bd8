-- drift case column_not_null_set: the change
ALTER TABLE t ALTER COLUMN name SET NOT NULL;
