-- drift case rename_column: starting schema
CREATE TABLE t (a integer, b text);
