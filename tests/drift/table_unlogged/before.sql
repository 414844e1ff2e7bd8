-- drift case table_unlogged: starting schema
CREATE TABLE cache (k text, v text);
CREATE UNLOGGED TABLE scratch (k text);
