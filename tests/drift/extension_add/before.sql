-- drift case extension_add: starting schema
CREATE TABLE t (a integer);
