-- drift case privileges_grant_option: the change
GRANT SELECT ON t TO priv_r WITH GRANT OPTION;
