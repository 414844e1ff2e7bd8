-- drift case table_toast_options: starting schema
CREATE TABLE t (a text);
CREATE TABLE u (a text) WITH (fillfactor = 70, toast.autovacuum_enabled = false);
