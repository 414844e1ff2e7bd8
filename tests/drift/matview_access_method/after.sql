-- drift case matview_access_method: the change
-- @if 15
ALTER MATERIALIZED VIEW mv SET ACCESS METHOD heap2;
-- @else
-- (ALTER MATERIALIZED VIEW ... SET ACCESS METHOD is 15+; before, only CREATE ... USING sets it)
DROP MATERIALIZED VIEW mv;
CREATE MATERIALIZED VIEW mv USING heap2 AS SELECT a FROM t;
-- @end
