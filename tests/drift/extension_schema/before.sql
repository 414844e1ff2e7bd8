-- drift case extension_schema: starting schema
CREATE SCHEMA ext;
CREATE EXTENSION pg_trgm;
