-- drift case privileges_type: the change
REVOKE USAGE ON TYPE e FROM PUBLIC;
GRANT USAGE ON TYPE e TO priv_r;
REVOKE USAGE ON DOMAIN d FROM PUBLIC;
