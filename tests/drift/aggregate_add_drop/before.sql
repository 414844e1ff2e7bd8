-- drift case aggregate_add_drop: starting schema
CREATE AGGREGATE old_agg(integer) (SFUNC = int4larger, STYPE = integer);
