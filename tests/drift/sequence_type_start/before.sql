-- drift case sequence_type_start: starting schema
CREATE SEQUENCE s;
