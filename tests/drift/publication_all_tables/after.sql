-- drift case publication_all_tables: the change
DROP PUBLICATION pub;
CREATE PUBLICATION pub FOR ALL TABLES;
