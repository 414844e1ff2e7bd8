-- drift case rename_column: the change
ALTER TABLE t RENAME COLUMN b TO c;
