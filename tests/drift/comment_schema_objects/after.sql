-- drift case comment_schema_objects: the change
COMMENT ON SCHEMA s IS 'a schema';
COMMENT ON FUNCTION f() IS 'a function';
COMMENT ON PROCEDURE p() IS 'a procedure';
COMMENT ON AGGREGATE agg(integer) IS 'an aggregate';
COMMENT ON TYPE e IS 'a type';
COMMENT ON DOMAIN d IS 'a domain';
COMMENT ON COLLATION coll IS 'a collation';
