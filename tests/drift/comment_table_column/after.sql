-- drift case comment_table_column: the change
COMMENT ON TABLE t IS 'new';
COMMENT ON COLUMN t.a IS 'the a';
COMMENT ON COLUMN t.b IS NULL;
COMMENT ON VIEW v IS 'a view';
COMMENT ON SEQUENCE s IS 'numbers';
