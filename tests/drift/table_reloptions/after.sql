-- drift case table_reloptions: the change
ALTER TABLE t SET (fillfactor = 70);
ALTER TABLE t RESET (autovacuum_enabled);
ALTER TABLE u SET (fillfactor = 50);
ALTER VIEW v SET (security_barrier = true);
