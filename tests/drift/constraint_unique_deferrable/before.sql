-- drift case constraint_unique_deferrable: starting schema
CREATE TABLE t (a integer, b integer, CONSTRAINT t_a_key UNIQUE (a));
