-- drift case column_drop: starting schema
CREATE TABLE t (a integer, b text, c date);
