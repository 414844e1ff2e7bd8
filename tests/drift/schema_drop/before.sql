-- drift case schema_drop: starting schema
CREATE SCHEMA app;
CREATE SCHEMA keep;
