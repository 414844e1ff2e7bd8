-- drift case ownership_table: starting schema
DO $$BEGIN CREATE ROLE own_new NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;

CREATE TABLE t (a integer);
