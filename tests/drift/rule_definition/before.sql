-- drift case rule_definition: starting schema
CREATE TABLE t (a integer, b text);
CREATE TABLE t_log (a integer);

CREATE RULE r AS ON INSERT TO t DO ALSO INSERT INTO t_log VALUES (NEW.a);
