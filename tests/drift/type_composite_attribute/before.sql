-- drift case type_composite_attribute: starting schema
CREATE TYPE addr AS (street text, zip integer, country text);
