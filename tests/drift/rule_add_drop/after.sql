-- drift case rule_add_drop: the change
DROP RULE old_r ON t;
CREATE RULE new_r AS ON UPDATE TO t DO INSTEAD NOTHING;
