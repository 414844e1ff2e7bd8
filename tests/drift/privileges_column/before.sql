-- drift case privileges_column: starting schema
DO $$BEGIN CREATE ROLE priv_r NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
DO $$BEGIN CREATE ROLE priv_w NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;

CREATE TABLE t (a integer, b text);
GRANT UPDATE (b) ON t TO priv_w;
