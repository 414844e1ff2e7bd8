-- drift case aggregate_state: the change
DROP AGGREGATE agg(integer);
CREATE AGGREGATE agg(integer) (SFUNC = int84pl, STYPE = bigint, INITCOND = '0');
