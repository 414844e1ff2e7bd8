-- drift case collation_add_drop: starting schema
CREATE COLLATION old_coll (provider = libc, locale = 'C');
