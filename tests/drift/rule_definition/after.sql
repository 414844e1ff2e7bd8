-- drift case rule_definition: the change
CREATE OR REPLACE RULE r AS ON INSERT TO t DO ALSO INSERT INTO t_log VALUES (NEW.a + 1);
