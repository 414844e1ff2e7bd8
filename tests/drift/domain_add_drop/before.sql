-- drift case domain_add_drop: starting schema
CREATE DOMAIN old_d AS integer;
