-- drift case aggregate_kind: the change
DROP AGGREGATE agg(anyelement);
CREATE AGGREGATE agg(ORDER BY anyelement) (SFUNC = ordered_set_transition, STYPE = internal,
	FINALFUNC = mode_final, FINALFUNC_EXTRA);
