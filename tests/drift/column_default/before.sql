-- drift case column_default: starting schema
CREATE TABLE t (a integer, b text DEFAULT 'x', c integer DEFAULT 1);
