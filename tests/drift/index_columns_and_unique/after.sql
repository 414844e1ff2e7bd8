-- drift case index_columns_and_unique: the change
DROP INDEX ix;
CREATE UNIQUE INDEX ix ON c (b);
