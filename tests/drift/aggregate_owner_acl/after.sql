-- drift case aggregate_owner_acl: the change
ALTER AGGREGATE agg(integer) OWNER TO agg_owner;
REVOKE EXECUTE ON FUNCTION agg2(integer) FROM PUBLIC;
