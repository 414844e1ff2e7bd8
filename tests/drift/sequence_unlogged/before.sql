-- drift case sequence_unlogged: starting schema
CREATE SEQUENCE s;
