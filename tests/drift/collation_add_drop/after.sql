-- drift case collation_add_drop: the change
DROP COLLATION old_coll;
CREATE COLLATION new_coll (provider = icu, locale = 'fr');
