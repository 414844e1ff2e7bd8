-- drift case rename_with_change: the change
ALTER TABLE t RENAME COLUMN a TO b;
ALTER TABLE t ALTER COLUMN b TYPE bigint;
