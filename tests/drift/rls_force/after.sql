-- drift case rls_force: the change
ALTER TABLE t FORCE ROW LEVEL SECURITY;
