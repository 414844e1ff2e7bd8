-- drift case publication_tables: the change
ALTER PUBLICATION pub ADD TABLE t2;
ALTER PUBLICATION pub DROP TABLE t1;
