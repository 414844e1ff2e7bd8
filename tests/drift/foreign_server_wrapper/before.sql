-- drift case foreign_server_wrapper: starting schema
CREATE FOREIGN DATA WRAPPER w;
CREATE SERVER srv FOREIGN DATA WRAPPER w OPTIONS (host 'a.example.org');

CREATE FOREIGN DATA WRAPPER w2;
