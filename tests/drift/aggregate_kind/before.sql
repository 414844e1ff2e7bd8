-- drift case aggregate_kind: starting schema
CREATE AGGREGATE agg(anyelement) (SFUNC = ordered_set_transition, STYPE = internal,
	FINALFUNC = mode_final, FINALFUNC_EXTRA);
