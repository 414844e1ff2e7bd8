-- drift case policy_add_drop: the change
DROP POLICY old_p ON t;
CREATE POLICY new_p ON t FOR SELECT USING (owner_name = current_user);
