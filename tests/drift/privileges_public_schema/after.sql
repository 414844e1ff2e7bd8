-- drift case privileges_public_schema: the change
REVOKE USAGE ON SCHEMA s FROM PUBLIC;
