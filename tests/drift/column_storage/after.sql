-- drift case column_storage: the change
ALTER TABLE t ALTER COLUMN a SET STORAGE MAIN;
ALTER TABLE t ALTER COLUMN b SET STORAGE EXTENDED;
-- integer's own storage: nothing to report
ALTER TABLE t ALTER COLUMN c SET STORAGE PLAIN;
