-- drift case privileges_grant_more: the change
GRANT INSERT ON t TO priv_r;
