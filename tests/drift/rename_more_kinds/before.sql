-- drift case rename_more_kinds: starting schema
CREATE TABLE t (a integer, b integer);
CREATE FOREIGN DATA WRAPPER w;
CREATE FOREIGN DATA WRAPPER w_keep;
CREATE SERVER srv FOREIGN DATA WRAPPER w_keep;
CREATE SERVER srv_keep FOREIGN DATA WRAPPER w_keep;
CREATE FOREIGN TABLE ft (a integer) SERVER srv_keep;
CREATE PUBLICATION pub FOR TABLE t;
CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN NULL; END$$;
CREATE EVENT TRIGGER et ON ddl_command_end EXECUTE FUNCTION evt();
CREATE COLLATION coll (provider = libc, locale = 'C');
CREATE DOMAIN d AS integer;
CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1';
CREATE AGGREGATE agg(integer) (SFUNC = int4larger, STYPE = integer);
CREATE MATERIALIZED VIEW mv AS SELECT a FROM t;
