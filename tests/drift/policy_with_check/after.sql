-- drift case policy_with_check: the change
ALTER POLICY p ON t WITH CHECK (amount < 1000);
ALTER POLICY q ON t WITH CHECK (amount >= 0);
