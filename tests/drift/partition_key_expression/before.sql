-- drift case partition_key_expression: starting schema
CREATE TABLE m (id integer, at timestamp) PARTITION BY RANGE (at);
