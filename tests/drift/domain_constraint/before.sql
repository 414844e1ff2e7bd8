-- drift case domain_constraint: starting schema
CREATE DOMAIN d AS integer CONSTRAINT d_pos CHECK (VALUE > 0);
