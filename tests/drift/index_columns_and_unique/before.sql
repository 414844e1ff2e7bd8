-- drift case index_columns_and_unique: starting schema
CREATE TABLE c (a integer, b integer);
CREATE INDEX ix ON c (a);
