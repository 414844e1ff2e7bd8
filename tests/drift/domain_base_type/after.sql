-- drift case domain_base_type: the change
DROP DOMAIN d;
CREATE DOMAIN d AS varchar(20) COLLATE "C";
