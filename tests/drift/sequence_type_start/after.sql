-- drift case sequence_type_start: the change
ALTER SEQUENCE s AS integer START WITH 100;
