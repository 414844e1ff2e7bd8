-- drift case index_unique: the change
DROP INDEX t_a_idx;
CREATE UNIQUE INDEX t_a_idx ON t (a);
