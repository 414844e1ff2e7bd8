-- drift case constraint_not_enforced: the change
ALTER TABLE t DROP CONSTRAINT t_a_check;
ALTER TABLE t ADD CONSTRAINT t_a_check CHECK (a > 0) NOT ENFORCED;
ALTER TABLE t ALTER CONSTRAINT t_pid_fkey NOT ENFORCED;
