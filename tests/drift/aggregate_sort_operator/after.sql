-- drift case aggregate_sort_operator: the change
DROP AGGREGATE agg(integer);
CREATE AGGREGATE agg(integer) (SFUNC = int4larger, STYPE = integer, SORTOP = >);
