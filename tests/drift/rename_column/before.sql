-- drift case rename_column: starting schema
CREATE TABLE t (id integer, nme text, other text, qty integer NOT NULL);
