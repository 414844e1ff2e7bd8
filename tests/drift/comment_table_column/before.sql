-- drift case comment_table_column: starting schema
CREATE TABLE t (a integer, b integer);
CREATE VIEW v AS SELECT a FROM t;
CREATE SEQUENCE s;
COMMENT ON TABLE t IS 'old';
COMMENT ON COLUMN t.b IS 'gone soon';
