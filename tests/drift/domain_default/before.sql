-- drift case domain_default: starting schema
CREATE DOMAIN d1 AS integer;
CREATE DOMAIN d2 AS text DEFAULT 'x';
CREATE DOMAIN d3 AS integer DEFAULT 1;
