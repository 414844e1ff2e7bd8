-- drift case statistics_add_drop: starting schema
CREATE TABLE t (a integer, b integer);
CREATE STATISTICS old_st ON a, b FROM t;
