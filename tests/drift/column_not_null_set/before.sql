-- drift case column_not_null_set: starting schema
CREATE TABLE t (id integer, name text);
