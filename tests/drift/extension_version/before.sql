-- drift case extension_version: starting schema
CREATE EXTENSION hstore VERSION '1.6';
