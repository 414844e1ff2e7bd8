-- drift case foreign_server_drop: starting schema
CREATE FOREIGN DATA WRAPPER w;
CREATE SERVER srv FOREIGN DATA WRAPPER w;
CREATE SERVER old_srv FOREIGN DATA WRAPPER w;
