-- drift case foreign_table_partition: starting schema
CREATE FOREIGN DATA WRAPPER w;
CREATE SERVER srv FOREIGN DATA WRAPPER w OPTIONS (host 'a.example.org');

CREATE TABLE m (id integer, region text) PARTITION BY LIST (region);
CREATE TABLE base (id integer);
CREATE FOREIGN TABLE ft (id integer, region text) SERVER srv;
CREATE FOREIGN TABLE ft2 (id integer) SERVER srv;
