-- drift case aggregate_hypothetical: the change
DROP AGGREGATE agg(VARIADIC "any" ORDER BY VARIADIC "any");
CREATE AGGREGATE agg(VARIADIC "any" ORDER BY VARIADIC "any") (SFUNC = ordered_set_transition_multi,
	STYPE = internal, FINALFUNC = rank_final, FINALFUNC_EXTRA, HYPOTHETICAL);
