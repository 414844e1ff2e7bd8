-- drift case privileges_table: starting schema
DO $$BEGIN CREATE ROLE priv_r NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
DO $$BEGIN CREATE ROLE priv_w NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;

CREATE TABLE t (a integer);
CREATE VIEW v AS SELECT a FROM t;
GRANT SELECT, INSERT ON t TO priv_w;
