-- drift case constraint_primary_key: starting schema
CREATE TABLE t (id integer, name text);
CREATE TABLE u (id integer PRIMARY KEY);
