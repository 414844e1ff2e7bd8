-- drift case rename_table: the change
ALTER TABLE orders RENAME TO purchases;
