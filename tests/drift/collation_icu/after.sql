-- drift case collation_icu: the change
DROP COLLATION coll;
CREATE COLLATION coll (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
