-- A schema that uses every object kind schemadrift knows at once (issue 3), for the no-false-drift tests.
--
-- Blocks `-- @if N` ... [`-- @else` ...] `-- @end` are for servers of major N and later
-- (pgharness.fixture_text); the fixture loads on 13 to 18.
-- Steps are marked `-- @step NAME`; test_coverage_no_false_drift.py runs them
-- in this order and in another one (REORDERED there), so each step may only
-- depend on steps listed before it in both orders.  Roles are cluster-wide:
-- they are created only when missing, so the file can run in several
-- databases of one cluster (and in pg_restore's target).

-- @step roles
DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['cov_owner', 'cov_reader', 'cov_writer', 'cov_auditor'] LOOP
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END
$$;

-- @step tablespaces
-- An in-place tablespace (a developer option: no directory to prepare) so
-- that tablespace attributes are exercised; tablespaces are cluster-wide.
SET allow_in_place_tablespaces = true;
SELECT 'CREATE TABLESPACE cov_space LOCATION ''''' WHERE NOT EXISTS
	(SELECT FROM pg_tablespace WHERE spcname = 'cov_space') \gexec

-- @step schemas
CREATE SCHEMA cov AUTHORIZATION cov_owner;
CREATE SCHEMA cov_audit;
CREATE SCHEMA ext;
COMMENT ON SCHEMA cov IS 'application objects';
GRANT USAGE ON SCHEMA cov TO cov_reader, cov_writer;
GRANT CREATE ON SCHEMA cov_audit TO cov_auditor;

-- @step extensions
-- Their types, functions and operators are reported as the extension, not one by one.
CREATE EXTENSION pg_trgm SCHEMA ext;
CREATE EXTENSION hstore SCHEMA ext;
CREATE EXTENSION postgres_fdw SCHEMA ext;
COMMENT ON EXTENSION hstore IS 'key/value pairs';

-- @step collations
CREATE COLLATION cov.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE COLLATION cov.posix_c (provider = libc, locale = 'C');
COMMENT ON COLLATION cov.ci IS 'case-insensitive';

-- @step types
CREATE TYPE cov.status AS ENUM ('new', 'paid', 'shipped');
CREATE TYPE cov.address AS (street text, city text COLLATE "C", zip integer);
CREATE TYPE cov.price_range AS RANGE (subtype = numeric);
CREATE TYPE cov.floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE TYPE cov.textrange AS RANGE (subtype = text, collation = "C");
-- A discrete range with a canonical function (the built-in one is generic
-- over the range type it is given).
CREATE TYPE cov.intrange;
CREATE FUNCTION cov.intrange_canonical(cov.intrange) RETURNS cov.intrange
	LANGUAGE internal IMMUTABLE STRICT AS 'int4range_canonical';
CREATE TYPE cov.intrange AS RANGE (subtype = integer, canonical = cov.intrange_canonical);
COMMENT ON TYPE cov.status IS 'order states';
ALTER TYPE cov.address OWNER TO cov_owner;
REVOKE USAGE ON TYPE cov.status FROM PUBLIC;
GRANT USAGE ON TYPE cov.status TO cov_reader;
-- A base type: I/O functions in LANGUAGE internal (superuser only), the
-- shell type first.
CREATE TYPE cov.myint;
CREATE FUNCTION cov.myint_in(cstring) RETURNS cov.myint LANGUAGE internal IMMUTABLE STRICT
	AS 'int4in';
CREATE FUNCTION cov.myint_out(cov.myint) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT
	AS 'int4out';
CREATE TYPE cov.myint (INPUT = cov.myint_in, OUTPUT = cov.myint_out, LIKE = integer);

-- @step domains
CREATE DOMAIN cov.email AS text COLLATE "C" NOT NULL DEFAULT 'nobody@example.org'
	CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%');
CREATE DOMAIN cov.positive AS numeric(12,2) CHECK (VALUE > 0);
COMMENT ON DOMAIN cov.email IS 'an e-mail address';

-- @step sequences
CREATE SEQUENCE cov.invoice_no AS integer START 1000 INCREMENT 5 MINVALUE 1000
	MAXVALUE 999999 CACHE 10 CYCLE;
GRANT USAGE ON SEQUENCE cov.invoice_no TO cov_writer;
COMMENT ON SEQUENCE cov.invoice_no IS 'invoice numbers';

-- @step functions
CREATE FUNCTION cov.add(a integer, b integer) RETURNS integer
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF COST 5
	AS $$SELECT a + b$$;
-- @if 14
CREATE FUNCTION cov.add(a numeric, b numeric) RETURNS numeric
	LANGUAGE sql IMMUTABLE
	RETURN a + b;
-- @else
CREATE FUNCTION cov.add(a numeric, b numeric) RETURNS numeric
	LANGUAGE sql IMMUTABLE
	AS $$SELECT a + b$$;
-- @end
CREATE FUNCTION cov.touch() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, cov
	AS $$
BEGIN
	-- 'quoted  spaces' stay as typed
	NEW.updated := now();
	RETURN NEW;
END
$$;
-- @if 14
CREATE FUNCTION cov.series(n integer) RETURNS SETOF integer
	LANGUAGE sql STABLE ROWS 50 SET work_mem = '8MB'
	BEGIN ATOMIC
		SELECT g FROM generate_series(1, n) g;
	END;
-- @else
CREATE FUNCTION cov.series(n integer) RETURNS SETOF integer
	LANGUAGE sql STABLE ROWS 50 SET work_mem = '8MB'
	AS $$SELECT g FROM generate_series(1, n) g$$;
-- @end
CREATE FUNCTION cov.rownum() RETURNS bigint LANGUAGE internal WINDOW IMMUTABLE
	AS 'window_row_number';
CREATE FUNCTION cov.ddl_log() RETURNS event_trigger LANGUAGE plpgsql
	AS $$BEGIN RAISE NOTICE 'ddl: %', tg_tag; END$$;
CREATE FUNCTION cov.sum_state(s numeric, v numeric) RETURNS numeric
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$SELECT coalesce(s, 0) + coalesce(v, 0)$$;
CREATE FUNCTION cov.sum_final(s numeric) RETURNS numeric
	LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$SELECT round(s, 2)$$;
REVOKE EXECUTE ON FUNCTION cov.add(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cov.add(integer, integer) TO cov_reader;
ALTER FUNCTION cov.series(integer) OWNER TO cov_owner;
COMMENT ON FUNCTION cov.add(integer, integer) IS 'integer addition';

-- @step procedures
CREATE PROCEDURE cov.archive(older_than interval)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = cov
	AS $$
BEGIN
	DELETE FROM cov.orders WHERE placed < now() - older_than;
END
$$;
COMMENT ON PROCEDURE cov.archive(interval) IS 'moves old orders away';

-- @step aggregates
CREATE AGGREGATE cov.money_sum(numeric) (SFUNC = cov.sum_state, STYPE = numeric,
	FINALFUNC = cov.sum_final, COMBINEFUNC = cov.sum_state, INITCOND = '0',
	PARALLEL = SAFE);
CREATE AGGREGATE cov.max_num(numeric) (SFUNC = numeric_larger, STYPE = numeric,
	SORTOP = >);
CREATE AGGREGATE cov.my_mode(ORDER BY anyelement) (SFUNC = ordered_set_transition,
	STYPE = internal, FINALFUNC = mode_final, FINALFUNC_EXTRA);
COMMENT ON AGGREGATE cov.money_sum(numeric) IS 'rounded sum';

-- @step tables
CREATE TABLE cov.customers (
	id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email cov.email,
	name text COLLATE cov.ci,
	addr cov.address,
	note text
) WITH (fillfactor = 80, autovacuum_enabled = false);
CREATE TABLE cov.orders (
	id bigint GENERATED BY DEFAULT AS IDENTITY,
	customer_id integer NOT NULL REFERENCES cov.customers (id) ON DELETE CASCADE,
	status cov.status NOT NULL DEFAULT 'new',
	total cov.positive,
	price_band cov.price_range,
	net numeric GENERATED ALWAYS AS (total / 1.2) STORED,
	placed timestamp with time zone NOT NULL DEFAULT now(),
	updated timestamp with time zone,
	CONSTRAINT orders_pkey PRIMARY KEY (id),
	CONSTRAINT orders_band_excl EXCLUDE USING gist (price_band WITH &&)
		WHERE (status <> 'new') DEFERRABLE INITIALLY DEFERRED
);
CREATE UNLOGGED TABLE cov.scratch (k text PRIMARY KEY, v ext.hstore) TABLESPACE cov_space;
CREATE INDEX scratch_v_idx ON cov.scratch USING gist (v) TABLESPACE cov_space;
ALTER TABLE cov.orders REPLICA IDENTITY FULL;
ALTER TABLE cov.customers OWNER TO cov_owner;
CREATE INDEX orders_customer_idx ON cov.orders (customer_id) INCLUDE (status)
	WITH (fillfactor = 70);
CREATE INDEX customers_name_trgm ON cov.customers USING gin (name ext.gin_trgm_ops);
CREATE INDEX orders_open_idx ON cov.orders (placed) WHERE status <> 'shipped';
COMMENT ON TABLE cov.orders IS 'customer orders';
COMMENT ON COLUMN cov.orders.total IS 'gross total';
COMMENT ON INDEX cov.orders_open_idx IS 'open orders only';
COMMENT ON CONSTRAINT orders_pkey ON cov.orders IS 'surrogate key';
GRANT SELECT ON cov.orders TO cov_reader;
GRANT SELECT, INSERT, UPDATE ON cov.orders TO cov_writer;
GRANT SELECT (id, email), UPDATE (note) ON cov.customers TO cov_reader;
ALTER TABLE cov.orders ALTER COLUMN status SET (n_distinct = 3);
CREATE STATISTICS cov.orders_stats (ndistinct, dependencies) ON customer_id, status
	FROM cov.orders;
COMMENT ON STATISTICS cov.orders_stats IS 'status depends on customer';

-- @step partitions
CREATE TABLE cov_audit.events (
	id bigint NOT NULL,
	at date NOT NULL,
	actor text,
	payload jsonb
) PARTITION BY RANGE (at);
CREATE TABLE cov_audit.events_2024 PARTITION OF cov_audit.events
	FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE cov_audit.events_2025 PARTITION OF cov_audit.events
	FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE cov_audit.events_rest PARTITION OF cov_audit.events DEFAULT;
ALTER TABLE cov_audit.events ADD PRIMARY KEY (id, at);
CREATE INDEX events_actor_idx ON cov_audit.events (actor);
CREATE FUNCTION cov_audit.stamp() RETURNS trigger LANGUAGE plpgsql
	AS $$BEGIN NEW.actor := coalesce(NEW.actor, current_user); RETURN NEW; END$$;
CREATE TRIGGER events_stamp BEFORE INSERT ON cov_audit.events
	FOR EACH ROW EXECUTE FUNCTION cov_audit.stamp();
CREATE TABLE cov_audit.base_log (id integer, msg text);
CREATE TABLE cov_audit.app_log (app text) INHERITS (cov_audit.base_log);

-- @step triggers
CREATE TRIGGER orders_touch BEFORE UPDATE OF status, total ON cov.orders
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
	EXECUTE FUNCTION cov.touch();
CREATE TRIGGER orders_touch_ins BEFORE INSERT ON cov.orders
	FOR EACH ROW EXECUTE FUNCTION cov.touch();
CREATE TRIGGER orders_replica BEFORE INSERT OR DELETE ON cov.orders
	FOR EACH ROW EXECUTE FUNCTION cov.touch('replica', 2);
CREATE TRIGGER orders_always AFTER TRUNCATE ON cov.orders
	FOR EACH STATEMENT EXECUTE FUNCTION cov.touch();
CREATE CONSTRAINT TRIGGER customers_check AFTER INSERT ON cov.customers
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cov.touch();
ALTER TABLE cov.orders DISABLE TRIGGER orders_touch_ins;
ALTER TABLE cov.orders ENABLE REPLICA TRIGGER orders_replica;
ALTER TABLE cov.orders ENABLE ALWAYS TRIGGER orders_always;
COMMENT ON TRIGGER orders_touch ON cov.orders IS 'keeps updated current';

-- @step views
CREATE VIEW cov.open_orders WITH (security_barrier = true) AS
	SELECT o.id, o.customer_id, o.total FROM cov.orders o WHERE o.status <> 'shipped';
CREATE MATERIALIZED VIEW cov.daily_totals WITH (fillfactor = 60) TABLESPACE cov_space AS
	SELECT date_trunc('day', placed) AS day, sum(total) AS total FROM cov.orders GROUP BY 1
	WITH NO DATA;
CREATE UNIQUE INDEX daily_totals_day ON cov.daily_totals (day);
COMMENT ON VIEW cov.open_orders IS 'not yet shipped';
COMMENT ON MATERIALIZED VIEW cov.daily_totals IS 'per day';
GRANT SELECT ON cov.open_orders TO cov_reader;

-- @step rules
CREATE TABLE cov.archive_orders (LIKE cov.orders);
CREATE RULE archive_no_delete AS ON DELETE TO cov.archive_orders DO INSTEAD NOTHING;
CREATE RULE open_orders_upd AS ON UPDATE TO cov.open_orders DO INSTEAD
	UPDATE cov.orders SET total = NEW.total WHERE id = OLD.id;
COMMENT ON RULE archive_no_delete ON cov.archive_orders IS 'archive is append-only';

-- @step rls
ALTER TABLE cov.orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE cov.orders FORCE ROW LEVEL SECURITY;
CREATE POLICY orders_read ON cov.orders FOR SELECT TO cov_reader, cov_writer
	USING (status <> 'new');
CREATE POLICY orders_write ON cov.orders AS RESTRICTIVE FOR UPDATE TO cov_writer
	USING (customer_id > 0) WITH CHECK (total > 0);
CREATE POLICY orders_all ON cov.orders USING (true);
COMMENT ON POLICY orders_read ON cov.orders IS 'readers see paid orders';

-- @step event_triggers
CREATE EVENT TRIGGER cov_ddl_log ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'DROP TABLE')
	EXECUTE FUNCTION cov.ddl_log();
CREATE EVENT TRIGGER cov_ddl_off ON sql_drop EXECUTE FUNCTION cov.ddl_log();
ALTER EVENT TRIGGER cov_ddl_off DISABLE;
COMMENT ON EVENT TRIGGER cov_ddl_log IS 'logs DDL';

-- @step publications
-- @if 15
CREATE PUBLICATION cov_pub FOR TABLE cov.orders (id, customer_id, status),
	cov.customers WHERE (id > 10) WITH (publish = 'insert, update');
CREATE PUBLICATION cov_pub_audit FOR TABLES IN SCHEMA cov_audit
	WITH (publish_via_partition_root = true);
-- @else
-- (column lists, row filters and whole schemas are 15's)
CREATE PUBLICATION cov_pub FOR TABLE cov.orders, cov.customers
	WITH (publish = 'insert, update');
CREATE PUBLICATION cov_pub_audit FOR TABLE cov_audit.events
	WITH (publish_via_partition_root = true);
-- @end
COMMENT ON PUBLICATION cov_pub IS 'orders feed';

-- @step foreign
CREATE FOREIGN DATA WRAPPER cov_fdw OPTIONS (debug 'true');
CREATE SERVER cov_srv TYPE 'remote' VERSION '2' FOREIGN DATA WRAPPER cov_fdw
	OPTIONS (host 'db.example.org', port '5432');
-- Never reported: user mappings hold passwords.
CREATE USER MAPPING FOR cov_owner SERVER cov_srv OPTIONS (user 'app', password 'hunter2');
CREATE FOREIGN TABLE cov.remote_orders (id bigint OPTIONS (column_name 'order_id'), total numeric)
	SERVER cov_srv OPTIONS (table_name 'orders');
GRANT USAGE ON FOREIGN SERVER cov_srv TO cov_reader;
GRANT SELECT ON cov.remote_orders TO cov_reader;
COMMENT ON FOREIGN DATA WRAPPER cov_fdw IS 'test wrapper';
COMMENT ON SERVER cov_srv IS 'remote database';
COMMENT ON FOREIGN TABLE cov.remote_orders IS 'orders elsewhere';
CREATE FOREIGN DATA WRAPPER cov_pgfdw HANDLER ext.postgres_fdw_handler
	VALIDATOR ext.postgres_fdw_validator;
CREATE TABLE cov_audit.archive (id bigint, region text) PARTITION BY LIST (region);
CREATE FOREIGN TABLE cov_audit.archive_remote PARTITION OF cov_audit.archive
	FOR VALUES IN ('remote') SERVER cov_srv;
CREATE FOREIGN TABLE cov_audit.remote_log (host text) INHERITS (cov_audit.base_log) SERVER cov_srv;

-- @step default_privileges
ALTER DEFAULT PRIVILEGES FOR ROLE cov_owner IN SCHEMA cov GRANT SELECT ON TABLES TO cov_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE cov_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE cov_owner IN SCHEMA cov GRANT USAGE ON SEQUENCES TO cov_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE cov_owner GRANT USAGE ON TYPES TO cov_reader;

-- @step settings
-- What pg_dump writes as ALTER ... SET for columns, tables, indexes and the database.
ALTER TABLE cov.customers ALTER COLUMN note SET STORAGE EXTERNAL;
ALTER TABLE cov.customers ALTER COLUMN note SET STATISTICS 500;
-- @if 14
ALTER TABLE cov.customers ALTER COLUMN name SET COMPRESSION pglz;
-- @end
ALTER TABLE cov.customers SET (toast.autovacuum_enabled = false);
CREATE INDEX customers_lower_note_idx ON cov.customers ((lower(note)));
ALTER INDEX cov.customers_lower_note_idx ALTER COLUMN 1 SET STATISTICS 1000;
CREATE TABLE cov.addresses OF cov.address (zip WITH OPTIONS NOT NULL);
CREATE UNIQUE INDEX addresses_zip_key ON cov.addresses (zip);
ALTER TABLE cov.addresses REPLICA IDENTITY USING INDEX addresses_zip_key;
-- A restore recreates only the database's own settings: pg_restore --create, or by hand.
DO $$BEGIN
	EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '16MB');
END$$;
-- @if 18
CREATE TABLE cov.order_notes (
	order_id bigint,
	note text CONSTRAINT order_notes_note_required NOT NULL,
	tag text,
	lang text CONSTRAINT order_notes_lang_nn NOT NULL NO INHERIT,
	words integer GENERATED ALWAYS AS (length(note)) VIRTUAL,
	CONSTRAINT order_notes_short CHECK (length(note) < 1000) NOT ENFORCED
);
ALTER TABLE cov.order_notes ADD CONSTRAINT order_notes_tag_nn NOT NULL tag NOT VALID;
CREATE TABLE cov.zone_prices (zone int4range, valid daterange, price numeric,
	PRIMARY KEY (zone, valid WITHOUT OVERLAPS));
CREATE TABLE cov.zone_orders (zone int4range, valid daterange,
	FOREIGN KEY (zone, PERIOD valid) REFERENCES cov.zone_prices (zone, PERIOD valid));
-- @end
