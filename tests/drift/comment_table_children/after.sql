-- drift case comment_table_children: the change
COMMENT ON INDEX t_a_idx IS 'an index';
COMMENT ON CONSTRAINT t_a_check ON t IS 'a constraint';
COMMENT ON TRIGGER tr ON t IS 'a trigger';
COMMENT ON RULE r ON t IS 'a rule';
COMMENT ON POLICY p ON t IS 'a policy';
COMMENT ON STATISTICS st IS 'a statistics object';
