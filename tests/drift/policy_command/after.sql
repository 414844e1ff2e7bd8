-- drift case policy_command: the change
DROP POLICY p ON t;
CREATE POLICY p ON t FOR SELECT USING (id > 0);
