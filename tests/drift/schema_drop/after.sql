-- drift case schema_drop: the change
DROP SCHEMA app;
