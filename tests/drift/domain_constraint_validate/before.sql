-- drift case domain_constraint_validate: starting schema
CREATE DOMAIN d AS integer;
ALTER DOMAIN d ADD CONSTRAINT d_pos CHECK (VALUE > 0) NOT VALID;
