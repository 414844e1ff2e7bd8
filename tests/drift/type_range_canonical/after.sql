-- drift case type_range_canonical: the change
DROP TYPE r;
CREATE TYPE r;
CREATE FUNCTION r_canonical(r) RETURNS r LANGUAGE internal IMMUTABLE STRICT AS 'int4range_canonical';
CREATE TYPE r AS RANGE (subtype = integer, canonical = r_canonical);
