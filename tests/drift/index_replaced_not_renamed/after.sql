-- drift case index_replaced_not_renamed: an index on another column, not a rename of the old one
DROP INDEX t_a;
CREATE INDEX t_b ON t (b);
