-- drift case table_add: the change
CREATE TABLE orders (id integer PRIMARY KEY, total numeric(10,2) NOT NULL, note text);
CREATE INDEX orders_total_idx ON orders (total);
