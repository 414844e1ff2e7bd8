-- drift case sequence_options: the change
ALTER SEQUENCE s INCREMENT BY 5 MAXVALUE 1000 MINVALUE 0 CACHE 10 CYCLE;
