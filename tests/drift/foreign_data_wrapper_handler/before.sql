-- drift case foreign_data_wrapper_handler: starting schema
CREATE EXTENSION postgres_fdw;
CREATE FOREIGN DATA WRAPPER w;
