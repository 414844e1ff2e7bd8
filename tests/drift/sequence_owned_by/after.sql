-- drift case sequence_owned_by: the change
ALTER SEQUENCE s1 OWNED BY t."Other Col";
ALTER SEQUENCE s2 OWNED BY NONE;
