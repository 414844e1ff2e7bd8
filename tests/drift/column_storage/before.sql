-- drift case column_storage: starting schema
CREATE TABLE t (a text, b text, c integer);
ALTER TABLE t ALTER COLUMN b SET STORAGE EXTERNAL;
