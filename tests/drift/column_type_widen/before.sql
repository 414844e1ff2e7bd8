-- drift case column_type_widen: starting schema
CREATE TABLE t (a integer, b character varying(20), c numeric(10,2), d smallint,
    e real, f timestamp(3) without time zone, g character varying(5));
