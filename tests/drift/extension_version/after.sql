-- drift case extension_version: the change
ALTER EXTENSION hstore UPDATE TO '1.7';
