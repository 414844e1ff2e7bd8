-- drift case rls_enable: the change
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
