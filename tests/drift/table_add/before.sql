-- drift case table_add: starting schema
CREATE TABLE keep (id integer);
