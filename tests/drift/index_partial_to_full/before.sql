-- drift case index_partial_to_full: starting schema
CREATE TABLE t (a integer);
CREATE INDEX t_a_idx ON t (a) WHERE a IS NOT NULL;
