-- drift case publication_add_drop: starting schema
CREATE TABLE t1 (id integer PRIMARY KEY, a text, b text);
CREATE TABLE t2 (id integer PRIMARY KEY);
CREATE SCHEMA s;
CREATE TABLE s.t3 (id integer);

CREATE PUBLICATION old_pub FOR TABLE t1;
