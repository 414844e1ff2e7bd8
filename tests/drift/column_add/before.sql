-- drift case column_add: starting schema
CREATE TABLE t (id integer);
