-- drift case foreign_server_wrapper: the change
DROP SERVER srv;
CREATE SERVER srv TYPE 'oracle' FOREIGN DATA WRAPPER w2 OPTIONS (host 'a.example.org');
