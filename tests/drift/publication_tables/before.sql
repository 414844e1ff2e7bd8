-- drift case publication_tables: starting schema
CREATE TABLE t1 (id integer PRIMARY KEY, a text, b text);
CREATE TABLE t2 (id integer PRIMARY KEY);
CREATE SCHEMA s;
CREATE TABLE s.t3 (id integer);

CREATE PUBLICATION pub FOR TABLE t1;
