-- drift case ownership_other_kinds: starting schema
DO $$BEGIN CREATE ROLE own_new NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;

ALTER ROLE own_new SUPERUSER;
CREATE TABLE t (a integer, b integer);
CREATE COLLATION coll (provider = libc, locale = 'C');
CREATE STATISTICS st ON a, b FROM t;
CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN NULL; END$$;
CREATE EVENT TRIGGER et ON ddl_command_end EXECUTE FUNCTION evt();
CREATE PUBLICATION pub FOR TABLE t;
CREATE FOREIGN DATA WRAPPER w;
CREATE SERVER srv FOREIGN DATA WRAPPER w;
CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1';
