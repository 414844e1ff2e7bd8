-- drift case index_drop: the change
DROP INDEX t_a_idx;
