-- drift case aggregate_definition: the change
DROP AGGREGATE agg(numeric);
CREATE AGGREGATE agg(numeric) (SFUNC = s_add, STYPE = numeric, INITCOND = '100',
	FINALFUNC = s_fin2, COMBINEFUNC = s_add, PARALLEL = SAFE);
