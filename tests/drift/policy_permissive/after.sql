-- drift case policy_permissive: the change
DROP POLICY p ON t;
CREATE POLICY p ON t AS RESTRICTIVE USING (id > 0);
