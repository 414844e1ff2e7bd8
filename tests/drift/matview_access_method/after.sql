-- drift case matview_access_method: the change
ALTER MATERIALIZED VIEW mv SET ACCESS METHOD heap2;
