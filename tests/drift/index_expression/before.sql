-- drift case index_expression: starting schema
CREATE TABLE t (a integer, b text);
CREATE INDEX t_b_expr ON t (lower(b));
