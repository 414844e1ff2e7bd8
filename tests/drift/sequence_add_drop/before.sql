-- drift case sequence_add_drop: starting schema
CREATE SEQUENCE old_seq;
