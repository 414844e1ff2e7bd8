-- drift case view_check_option: starting schema
CREATE TABLE t (a integer);
CREATE VIEW v AS SELECT a FROM t WHERE a > 0;
CREATE VIEW w WITH (check_option = local) AS SELECT a FROM t WHERE a > 1;
