-- drift case constraint_unique_deferrable: the change
ALTER TABLE t DROP CONSTRAINT t_a_key;
ALTER TABLE t ADD CONSTRAINT t_a_key UNIQUE (a) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE t ADD CONSTRAINT t_b_key UNIQUE (b);
