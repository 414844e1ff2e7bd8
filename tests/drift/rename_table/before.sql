-- drift case rename_table: starting schema
CREATE TABLE orders (id integer PRIMARY KEY, total numeric CHECK (total > 0));
CREATE INDEX orders_total ON orders (total);
