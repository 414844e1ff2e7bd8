-- drift case index_include: the change
DROP INDEX t_a_idx;
CREATE INDEX t_a_idx ON t (a) INCLUDE (b, c);
