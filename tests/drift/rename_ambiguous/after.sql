-- drift case rename_ambiguous: the change
DROP TABLE a1, a2;
CREATE TABLE b1 (id integer, v text);
CREATE TABLE b2 (id integer, v text);
