-- drift case extension_drop: the change
DROP EXTENSION pg_trgm;
