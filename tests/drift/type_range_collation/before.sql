-- drift case type_range_collation: starting schema
CREATE TYPE r AS RANGE (subtype = text);
