-- drift case aggregate_state: starting schema
CREATE AGGREGATE agg(integer) (SFUNC = int4larger, STYPE = integer);
