-- drift case aggregate_add_drop: the change
DROP AGGREGATE old_agg(integer);
CREATE AGGREGATE new_agg(bigint) (SFUNC = int8larger, STYPE = bigint);
