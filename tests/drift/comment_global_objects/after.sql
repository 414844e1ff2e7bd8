-- drift case comment_global_objects: the change
COMMENT ON EVENT TRIGGER et IS 'an event trigger';
COMMENT ON PUBLICATION pub IS 'a publication';
COMMENT ON FOREIGN DATA WRAPPER w IS 'a wrapper';
COMMENT ON SERVER srv IS 'a server';
COMMENT ON FOREIGN TABLE ft IS 'a foreign table';
COMMENT ON MATERIALIZED VIEW mv IS 'a materialized view';
