-- drift case partition_key_expression: the change
DROP TABLE m;
CREATE TABLE m (id integer, at timestamp) PARTITION BY RANGE (date_trunc('day', at));
