-- drift case column_type_narrow: starting schema
CREATE TABLE t (a bigint, b character varying(50), c numeric(12,2), d integer,
    e timestamp(6) with time zone, f integer, g numeric);
