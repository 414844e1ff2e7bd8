-- drift case partition_key: the change
DROP TABLE m;
CREATE TABLE m (id integer, at date, region text) PARTITION BY LIST (region);
