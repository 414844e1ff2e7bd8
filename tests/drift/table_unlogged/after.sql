-- drift case table_unlogged: the change
ALTER TABLE cache SET UNLOGGED;
ALTER TABLE scratch SET LOGGED;
