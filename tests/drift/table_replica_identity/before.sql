-- drift case table_replica_identity: starting schema
CREATE TABLE t1 (a integer);
CREATE TABLE t2 (a integer);
CREATE TABLE t3 (a integer NOT NULL);
CREATE UNIQUE INDEX t3_a ON t3 (a);
