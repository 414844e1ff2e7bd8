-- drift case privileges_table: the change
GRANT SELECT ON t TO priv_r;
REVOKE INSERT ON t FROM priv_w;
GRANT SELECT ON v TO priv_r;
