-- drift case matview_definition: the change
DROP MATERIALIZED VIEW mv;
CREATE MATERIALIZED VIEW mv AS SELECT a, b FROM t;
