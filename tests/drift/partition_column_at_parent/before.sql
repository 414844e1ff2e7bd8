-- drift case partition_column_at_parent: starting schema
CREATE TABLE events (id integer, region text) PARTITION BY LIST (region);
CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('de', 'fr');
CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us');
