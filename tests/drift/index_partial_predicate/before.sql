-- drift case index_partial_predicate: starting schema
CREATE TABLE t (a integer, b text);
CREATE INDEX t_a_part ON t (a) WHERE a > 0;
