-- drift case trigger_partition_clone_disabled: the change
-- The clone on one partition turned off: inserts into m1 no longer fire it.
ALTER TABLE m1 DISABLE TRIGGER tr;
