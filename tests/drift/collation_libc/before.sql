-- drift case collation_libc: starting schema
CREATE COLLATION coll (provider = libc, locale = 'C');
CREATE COLLATION coll2 (provider = libc, locale = 'C');
