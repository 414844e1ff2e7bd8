-- drift case rename_column: the change
ALTER TABLE t RENAME COLUMN nme TO name;
