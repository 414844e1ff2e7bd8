-- drift case column_options: starting schema
CREATE TABLE t (a integer, b integer);
ALTER TABLE t ALTER COLUMN b SET (n_distinct = 10);
