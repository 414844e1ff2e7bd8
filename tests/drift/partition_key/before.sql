-- drift case partition_key: starting schema
CREATE TABLE m (id integer, at date, region text) PARTITION BY RANGE (at);
