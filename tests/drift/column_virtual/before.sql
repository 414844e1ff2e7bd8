-- drift case column_virtual: starting schema
CREATE TABLE t (a integer, b integer GENERATED ALWAYS AS (a * 2) STORED, c integer GENERATED ALWAYS AS (a + 1) VIRTUAL);
