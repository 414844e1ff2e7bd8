-- drift case constraint_temporal: starting schema
CREATE TABLE r (id int4range, valid daterange, CONSTRAINT r_pkey PRIMARY KEY (id));
CREATE TABLE s (id int4range, valid daterange);
