-- drift case column_statistics: starting schema
CREATE TABLE t (a integer, b integer);
ALTER TABLE t ALTER COLUMN b SET STATISTICS 500;
