-- drift case foreign_table_add_drop: the change
DROP FOREIGN TABLE old_ft;
CREATE FOREIGN TABLE new_ft (b text) SERVER srv;
