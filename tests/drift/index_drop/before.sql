-- drift case index_drop: starting schema
CREATE TABLE t (a integer, b text);
CREATE INDEX t_a_idx ON t (a);
