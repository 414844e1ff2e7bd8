-- drift case domain_not_null: the change
ALTER DOMAIN d1 SET NOT NULL;
ALTER DOMAIN d2 DROP NOT NULL;
