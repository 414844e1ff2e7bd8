-- drift case index_add: the change
CREATE INDEX t_a_idx ON t (a);
