-- drift case rule_add_drop: starting schema
CREATE TABLE t (a integer, b text);
CREATE TABLE t_log (a integer);

CREATE RULE old_r AS ON DELETE TO t DO INSTEAD NOTHING;
