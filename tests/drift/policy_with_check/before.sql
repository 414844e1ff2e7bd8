-- drift case policy_with_check: starting schema
DO $$BEGIN CREATE ROLE rls_a NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
DO $$BEGIN CREATE ROLE rls_b NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;

CREATE TABLE t (id integer, owner_name text, amount integer);

CREATE POLICY p ON t FOR UPDATE USING (true);
CREATE POLICY q ON t FOR INSERT WITH CHECK (amount > 0);
