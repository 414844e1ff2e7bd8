-- drift case publication_row_filter_columns: the change
ALTER PUBLICATION pub SET TABLE t1 (id, a) WHERE (id > 10);
