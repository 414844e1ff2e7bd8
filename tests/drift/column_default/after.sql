-- drift case column_default: the change
ALTER TABLE t ALTER COLUMN a SET DEFAULT 0, ALTER COLUMN b SET DEFAULT 'y',
    ALTER COLUMN c DROP DEFAULT;
