-- drift case rule_enabled: starting schema
CREATE TABLE t (a integer, b text);
CREATE TABLE t_log (a integer);

CREATE RULE r1 AS ON DELETE TO t DO INSTEAD NOTHING;
CREATE RULE r2 AS ON UPDATE TO t DO INSTEAD NOTHING;
