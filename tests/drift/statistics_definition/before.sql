-- drift case statistics_definition: starting schema
CREATE TABLE t (a integer, b integer, c integer);
CREATE STATISTICS st (ndistinct) ON a, b FROM t;
