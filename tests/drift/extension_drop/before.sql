-- drift case extension_drop: starting schema
CREATE EXTENSION pg_trgm;
