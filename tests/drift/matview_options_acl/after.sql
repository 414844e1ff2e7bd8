-- drift case matview_options_acl: the change
ALTER MATERIALIZED VIEW mv SET (fillfactor = 50);
GRANT SELECT ON mv TO mv_reader;
CREATE MATERIALIZED VIEW mv2 AS SELECT a + 1 AS b FROM t;
