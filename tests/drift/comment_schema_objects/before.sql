-- drift case comment_schema_objects: starting schema
CREATE SCHEMA s;
CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1';
CREATE AGGREGATE agg(integer) (SFUNC = int4larger, STYPE = integer);
CREATE TYPE e AS ENUM ('a');
CREATE DOMAIN d AS integer;
CREATE COLLATION coll (provider = libc, locale = 'C');
