-- drift case extension_comment: starting schema
CREATE EXTENSION hstore;
