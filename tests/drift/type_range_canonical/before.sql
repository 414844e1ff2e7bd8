-- drift case type_range_canonical: starting schema
CREATE TYPE r AS RANGE (subtype = integer);
