-- drift case rule_enabled: the change
ALTER TABLE t DISABLE RULE r1;
ALTER TABLE t ENABLE REPLICA RULE r2;
