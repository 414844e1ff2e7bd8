-- drift case foreign_table: starting schema
CREATE FOREIGN DATA WRAPPER w;
CREATE SERVER srv FOREIGN DATA WRAPPER w OPTIONS (host 'a.example.org');

CREATE FOREIGN TABLE ft (a integer OPTIONS (column_name 'x'), b text) SERVER srv OPTIONS (table_name 'r');
