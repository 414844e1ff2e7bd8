-- drift case table_drop: starting schema
CREATE TABLE keep (id integer);
CREATE TABLE legacy (id integer PRIMARY KEY, name text NOT NULL, CHECK (id > 0));
CREATE INDEX legacy_name_idx ON legacy (name);
