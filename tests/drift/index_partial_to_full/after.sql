-- drift case index_partial_to_full: the change
DROP INDEX t_a_idx;
CREATE INDEX t_a_idx ON t (a);
