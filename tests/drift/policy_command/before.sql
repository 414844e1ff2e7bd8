-- drift case policy_command: starting schema
DO $$BEGIN CREATE ROLE rls_a NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
DO $$BEGIN CREATE ROLE rls_b NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;

CREATE TABLE t (id integer, owner_name text, amount integer);

CREATE POLICY p ON t USING (id > 0);
