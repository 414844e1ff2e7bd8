-- drift case table_toast_options: the change
ALTER TABLE t SET (toast.autovacuum_enabled = false, toast.vacuum_truncate = false);
ALTER TABLE u RESET (toast.autovacuum_enabled);
