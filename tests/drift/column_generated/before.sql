-- drift case column_generated: starting schema
CREATE TABLE t (a integer, g integer GENERATED ALWAYS AS (a * 2) STORED);
