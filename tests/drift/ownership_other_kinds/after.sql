-- drift case ownership_other_kinds: the change
ALTER COLLATION coll OWNER TO own_new;
ALTER STATISTICS st OWNER TO own_new;
ALTER EVENT TRIGGER et OWNER TO own_new;
ALTER PUBLICATION pub OWNER TO own_new;
ALTER FOREIGN DATA WRAPPER w OWNER TO own_new;
ALTER SERVER srv OWNER TO own_new;
ALTER PROCEDURE p() OWNER TO own_new;
