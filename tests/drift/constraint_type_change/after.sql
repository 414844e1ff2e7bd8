-- drift case constraint_type_change: the change
ALTER TABLE t DROP CONSTRAINT t_a, ADD CONSTRAINT t_a UNIQUE (a);
