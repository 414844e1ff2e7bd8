-- drift case extension_comment: the change
COMMENT ON EXTENSION hstore IS 'our key/value store';
