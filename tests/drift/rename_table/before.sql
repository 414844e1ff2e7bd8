-- drift case rename_table: starting schema
CREATE TABLE orders_old (id integer PRIMARY KEY, total numeric(10,2));
