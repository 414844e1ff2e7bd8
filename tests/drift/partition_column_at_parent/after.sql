-- drift case partition_column_at_parent: the change
ALTER TABLE events ADD COLUMN note text;
CREATE INDEX events_region_idx ON events (region);
