-- drift case privileges_column: the change
GRANT SELECT (a, b) ON t TO priv_r;
REVOKE UPDATE (b) ON t FROM priv_w;
