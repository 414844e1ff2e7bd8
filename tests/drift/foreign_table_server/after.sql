-- drift case foreign_table_server: the change
DROP FOREIGN TABLE ft;
CREATE FOREIGN TABLE ft (a integer) SERVER srv2;
