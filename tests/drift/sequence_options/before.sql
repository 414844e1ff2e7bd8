-- drift case sequence_options: starting schema
CREATE SEQUENCE s;
