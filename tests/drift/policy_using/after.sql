-- drift case policy_using: the change
ALTER POLICY p ON t USING (owner_name = current_user);
