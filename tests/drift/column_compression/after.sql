-- drift case column_compression: the change
ALTER TABLE t ALTER COLUMN a SET COMPRESSION pglz;
ALTER TABLE t ALTER COLUMN b SET COMPRESSION default;
