-- drift case column_collation: starting schema
CREATE TABLE t (a text, b text COLLATE "C", c text COLLATE "POSIX");
