-- drift case rule_event: the change
CREATE OR REPLACE RULE r AS ON DELETE TO t DO INSTEAD NOTHING;
