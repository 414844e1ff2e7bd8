-- drift case policy_roles: the change
ALTER POLICY p ON t TO rls_a, rls_b;
ALTER POLICY q ON t TO PUBLIC;
