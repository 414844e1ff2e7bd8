-- drift case policy_roles: starting schema
DO $$BEGIN CREATE ROLE rls_a NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
DO $$BEGIN CREATE ROLE rls_b NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;

CREATE TABLE t (id integer, owner_name text, amount integer);

CREATE POLICY p ON t TO rls_a USING (id > 0);
CREATE POLICY q ON t TO rls_a, rls_b USING (id > 0);
