-- drift case constraint_type_change: starting schema
CREATE TABLE t (a integer, CONSTRAINT t_a CHECK (a > 0));
