-- drift case ownership_various: the change
ALTER SCHEMA s OWNER TO own_new;
ALTER VIEW v OWNER TO own_new;
ALTER MATERIALIZED VIEW mv OWNER TO own_new;
ALTER SEQUENCE seq OWNER TO own_new;
ALTER FUNCTION f() OWNER TO own_new;
ALTER TYPE e OWNER TO own_new;
ALTER DOMAIN d OWNER TO own_new;
