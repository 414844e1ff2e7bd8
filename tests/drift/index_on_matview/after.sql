-- drift case index_on_matview: the change
CREATE INDEX mv_a_idx ON mv (a);
