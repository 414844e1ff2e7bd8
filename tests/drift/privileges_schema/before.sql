-- drift case privileges_schema: starting schema
DO $$BEGIN CREATE ROLE priv_r NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
DO $$BEGIN CREATE ROLE priv_w NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;

CREATE SCHEMA s1;
CREATE SCHEMA s2;
GRANT USAGE ON SCHEMA s2 TO priv_r;
