-- drift case schema_add: starting schema
CREATE SCHEMA keep;
