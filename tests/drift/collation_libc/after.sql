-- drift case collation_libc: the change
DROP COLLATION coll;
CREATE COLLATION coll (provider = libc, lc_collate = 'C', lc_ctype = 'POSIX');
DROP COLLATION coll2;
CREATE COLLATION coll2 (provider = icu, locale = 'und');
