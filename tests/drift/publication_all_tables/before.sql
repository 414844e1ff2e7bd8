-- drift case publication_all_tables: starting schema
CREATE TABLE t1 (id integer PRIMARY KEY);
CREATE PUBLICATION pub FOR TABLE t1;
