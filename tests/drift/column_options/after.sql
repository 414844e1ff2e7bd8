-- drift case column_options: the change
ALTER TABLE t ALTER COLUMN a SET (n_distinct = -0.5);
ALTER TABLE t ALTER COLUMN b RESET (n_distinct);
