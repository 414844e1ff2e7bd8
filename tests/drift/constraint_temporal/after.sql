-- drift case constraint_temporal: the change
ALTER TABLE r DROP CONSTRAINT r_pkey;
ALTER TABLE r ADD CONSTRAINT r_pkey PRIMARY KEY (id, valid WITHOUT OVERLAPS);
ALTER TABLE s ADD CONSTRAINT s_fkey FOREIGN KEY (id, PERIOD valid) REFERENCES r (id, PERIOD valid);
