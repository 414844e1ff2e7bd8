-- drift case column_not_null_drop: starting schema
CREATE TABLE t (id integer, name text NOT NULL);
