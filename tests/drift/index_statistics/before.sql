-- drift case index_statistics: starting schema
CREATE TABLE t (a integer, b integer);
CREATE INDEX i ON t ((a + b));
CREATE INDEX j ON t (a, (a * b));
ALTER INDEX j ALTER COLUMN 2 SET STATISTICS 100;
