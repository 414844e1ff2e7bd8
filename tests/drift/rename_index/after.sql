-- drift case rename_index: the change
ALTER INDEX t_idx RENAME TO t_a_idx;
