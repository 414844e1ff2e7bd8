-- drift case constraint_not_enforced: starting schema
CREATE TABLE p (id integer PRIMARY KEY);
CREATE TABLE t (a integer CONSTRAINT t_a_check CHECK (a > 0), pid integer CONSTRAINT t_pid_fkey REFERENCES p);
