-- drift case matview_drop: the change
DROP MATERIALIZED VIEW mv;
