-- drift case type_range: the change
DROP TYPE r;
CREATE TYPE r AS RANGE (subtype = float8, subtype_diff = float8mi);
