-- drift case rename_with_change: starting schema
CREATE TABLE t (id integer, a integer);
