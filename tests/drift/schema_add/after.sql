-- drift case schema_add: the change
CREATE SCHEMA app;
