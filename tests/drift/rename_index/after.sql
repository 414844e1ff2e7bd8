-- drift case rename_index: the change
ALTER INDEX t_a_idx RENAME TO t_a_index;
