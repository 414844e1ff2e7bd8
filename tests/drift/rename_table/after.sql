-- drift case rename_table: the change
ALTER TABLE orders_old RENAME TO orders;
