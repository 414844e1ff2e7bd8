-- drift case index_expression: the change
DROP INDEX t_b_expr;
CREATE INDEX t_b_expr ON t (upper(b));
