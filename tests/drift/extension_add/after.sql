-- drift case extension_add: the change
CREATE EXTENSION hstore;
