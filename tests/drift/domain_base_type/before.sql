-- drift case domain_base_type: starting schema
CREATE DOMAIN d AS varchar(10);
