-- drift case index_replaced_not_renamed: starting schema
CREATE TABLE t (a int, b int);
CREATE INDEX t_a ON t (a);
