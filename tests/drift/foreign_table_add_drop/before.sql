-- drift case foreign_table_add_drop: starting schema
CREATE FOREIGN DATA WRAPPER w;
CREATE SERVER srv FOREIGN DATA WRAPPER w OPTIONS (host 'a.example.org');

CREATE FOREIGN TABLE old_ft (a integer) SERVER srv;
