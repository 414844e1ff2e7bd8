-- drift case table_access_method: the change
-- @if 15
ALTER TABLE t SET ACCESS METHOD heap2;
-- @else
-- (ALTER TABLE ... SET ACCESS METHOD is 15+; before, only CREATE TABLE ... USING sets it)
DROP TABLE t;
CREATE TABLE t (a integer) USING heap2;
-- @end
