-- drift case partition_bound_change: the change
ALTER TABLE events DETACH PARTITION events_eu;
ALTER TABLE events ATTACH PARTITION events_eu FOR VALUES IN ('de', 'fr', 'it');
CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us');
