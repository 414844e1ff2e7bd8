-- drift case publication_schemas: the change
ALTER PUBLICATION pub ADD TABLES IN SCHEMA s;
