-- drift case index_partial_predicate: the change
DROP INDEX t_a_part;
CREATE INDEX t_a_part ON t (a) WHERE a > 10;
