-- drift case table_of_type: the change
ALTER TABLE t NOT OF;
ALTER TABLE u OF typ;
