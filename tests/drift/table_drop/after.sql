-- drift case table_drop: the change
DROP TABLE legacy;
