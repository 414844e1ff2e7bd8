-- drift case extension_schema: the change
ALTER EXTENSION pg_trgm SET SCHEMA ext;
