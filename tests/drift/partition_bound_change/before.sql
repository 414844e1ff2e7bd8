-- drift case partition_bound_change: starting schema
CREATE TABLE events (id integer, region text) PARTITION BY LIST (region);
CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('de', 'fr');
