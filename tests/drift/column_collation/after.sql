-- drift case column_collation: the change
ALTER TABLE t ALTER COLUMN a TYPE text COLLATE "C",
    ALTER COLUMN b TYPE text COLLATE "POSIX", ALTER COLUMN c TYPE text COLLATE "default";
