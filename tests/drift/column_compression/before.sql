-- drift case column_compression: starting schema
CREATE TABLE t (a text, b text);
ALTER TABLE t ALTER COLUMN b SET COMPRESSION pglz;
