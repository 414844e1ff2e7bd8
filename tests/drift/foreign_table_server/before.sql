-- drift case foreign_table_server: starting schema
CREATE FOREIGN DATA WRAPPER w;
CREATE SERVER srv FOREIGN DATA WRAPPER w OPTIONS (host 'a.example.org');

CREATE SERVER srv2 FOREIGN DATA WRAPPER w;
CREATE FOREIGN TABLE ft (a integer) SERVER srv;
