-- drift case type_range: starting schema
CREATE TYPE r AS RANGE (subtype = integer);
