-- drift case sequence_owned_by: starting schema
CREATE TABLE t (id integer, "Other Col" integer);
CREATE SEQUENCE s1;
CREATE SEQUENCE s2 OWNED BY t.id;
