-- drift case index_unique: starting schema
CREATE TABLE t (a integer);
CREATE INDEX t_a_idx ON t (a);
