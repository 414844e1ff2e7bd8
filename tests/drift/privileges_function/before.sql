-- drift case privileges_function: starting schema
DO $$BEGIN CREATE ROLE priv_r NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
DO $$BEGIN CREATE ROLE priv_w NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;

CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1';
