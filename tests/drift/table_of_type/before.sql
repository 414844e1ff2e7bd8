-- drift case table_of_type: starting schema
CREATE TYPE typ AS (a integer, b text);
CREATE TABLE t OF typ;
CREATE TABLE u (a integer, b text);
