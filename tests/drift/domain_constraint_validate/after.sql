-- drift case domain_constraint_validate: the change
ALTER DOMAIN d VALIDATE CONSTRAINT d_pos;
