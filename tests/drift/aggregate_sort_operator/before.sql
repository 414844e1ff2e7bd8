-- drift case aggregate_sort_operator: starting schema
CREATE AGGREGATE agg(integer) (SFUNC = int4larger, STYPE = integer);
