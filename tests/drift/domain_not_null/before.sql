-- drift case domain_not_null: starting schema
CREATE DOMAIN d1 AS integer;
CREATE DOMAIN d2 AS integer NOT NULL;
