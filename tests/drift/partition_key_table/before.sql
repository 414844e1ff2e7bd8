-- drift case partition_key_table: starting schema
CREATE TABLE logs (id integer, at date) PARTITION BY RANGE (at);
