-- drift case privileges_sequence: the change
GRANT USAGE, SELECT ON SEQUENCE s TO priv_w;
