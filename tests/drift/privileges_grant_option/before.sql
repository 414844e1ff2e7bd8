-- drift case privileges_grant_option: starting schema
DO $$BEGIN CREATE ROLE priv_r NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
DO $$BEGIN CREATE ROLE priv_w NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;

CREATE TABLE t (a integer);
GRANT SELECT ON t TO priv_r;
