-- drift case partition_key_table: the change
DROP TABLE logs;
CREATE TABLE logs (id integer, at date);
