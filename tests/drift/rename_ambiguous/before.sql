-- drift case rename_ambiguous: starting schema
CREATE TABLE a1 (id integer, v text);
CREATE TABLE a2 (id integer, v text);
