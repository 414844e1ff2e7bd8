-- drift case foreign_data_wrapper_options: starting schema
CREATE FOREIGN DATA WRAPPER w;
CREATE SERVER srv FOREIGN DATA WRAPPER w OPTIONS (host 'a.example.org');

CREATE FOREIGN DATA WRAPPER w2 OPTIONS (mode 'a');
