-- drift case ownership_table: the change
ALTER TABLE t OWNER TO own_new;
