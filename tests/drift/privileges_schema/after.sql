-- drift case privileges_schema: the change
GRANT USAGE, CREATE ON SCHEMA s1 TO priv_w;
REVOKE USAGE ON SCHEMA s2 FROM priv_r;
