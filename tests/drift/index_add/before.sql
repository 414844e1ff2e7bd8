-- drift case index_add: starting schema
CREATE TABLE t (a integer, b text);
