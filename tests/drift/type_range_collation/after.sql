-- drift case type_range_collation: the change
DROP TYPE r;
CREATE TYPE r AS RANGE (subtype = text, collation = "C", subtype_opclass = text_pattern_ops);
