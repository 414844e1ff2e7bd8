-- drift case fk_columns_and_action: starting schema
CREATE TABLE p (id integer PRIMARY KEY, id2 integer UNIQUE);
CREATE TABLE c (a integer, b integer,
	CONSTRAINT fk FOREIGN KEY (a) REFERENCES p (id) ON DELETE CASCADE);
