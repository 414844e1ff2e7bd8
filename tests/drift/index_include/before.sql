-- drift case index_include: starting schema
CREATE TABLE t (a integer, b text, c date);
CREATE INDEX t_a_idx ON t (a);
