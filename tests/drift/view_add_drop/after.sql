-- drift case view_add_drop: the change
DROP VIEW old_v;
CREATE VIEW new_v AS SELECT b FROM t;
