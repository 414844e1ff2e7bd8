-- drift case column_identity: starting schema
CREATE TABLE t (a integer NOT NULL, b integer GENERATED ALWAYS AS IDENTITY);
