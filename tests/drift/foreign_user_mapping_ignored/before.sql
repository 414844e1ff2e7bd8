-- drift case foreign_user_mapping_ignored: starting schema
CREATE FOREIGN DATA WRAPPER w;
CREATE SERVER srv FOREIGN DATA WRAPPER w OPTIONS (host 'a.example.org');

CREATE USER MAPPING FOR postgres SERVER srv OPTIONS (user 'a', password 'secret1');
