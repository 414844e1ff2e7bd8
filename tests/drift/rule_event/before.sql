-- drift case rule_event: starting schema
CREATE TABLE t (a integer, b text);
CREATE TABLE t_log (a integer);

CREATE RULE r AS ON INSERT TO t DO INSTEAD NOTHING;
