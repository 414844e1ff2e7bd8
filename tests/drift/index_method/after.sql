-- drift case index_method: the change
DROP INDEX t_a_idx;
CREATE INDEX t_a_idx ON t USING hash (a);
