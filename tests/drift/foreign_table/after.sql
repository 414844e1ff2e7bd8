-- drift case foreign_table: the change
ALTER FOREIGN TABLE ft OPTIONS (SET table_name 'r2', ADD schema_name 'remote');
ALTER FOREIGN TABLE ft ALTER COLUMN a OPTIONS (SET column_name 'y');
ALTER FOREIGN TABLE ft ADD COLUMN c date;
