-- drift case privileges_foreign: the change
GRANT USAGE ON FOREIGN DATA WRAPPER w TO priv_r;
GRANT USAGE ON FOREIGN SERVER srv TO priv_r;
