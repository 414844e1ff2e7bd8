-- drift case constraint_primary_key: the change
ALTER TABLE t ADD PRIMARY KEY (id);
ALTER TABLE u DROP CONSTRAINT u_pkey;
