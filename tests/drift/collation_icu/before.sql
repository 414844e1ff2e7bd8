-- drift case collation_icu: starting schema
CREATE COLLATION coll (provider = icu, locale = 'de-DE');
