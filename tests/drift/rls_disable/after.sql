-- drift case rls_disable: the change
ALTER TABLE t DISABLE ROW LEVEL SECURITY;
