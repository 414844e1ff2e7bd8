"""A schema using every kind and significant attribute, in two creation orders.

STEPS maps a step name to SQL.  natural_sql() creates them in NATURAL order;
reordered_sql() creates the same objects in another order (and partly by
other routes: constraints added later, a serial spelled out), which must give
the same catalog state -- hence the same schemadrift hash.
DATA_SQL adds rows so that maintenance commands have something to do.
"""

STEPS = {
    "schemas": """
CREATE SCHEMA app;
CREATE SCHEMA audit;
CREATE SCHEMA "Mixed Case";
""",
    "customers": """
CREATE TABLE app.customers (
    id bigint GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 2),
    email character varying(200) NOT NULL,
    name text COLLATE "C",
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    score numeric(10,2) DEFAULT 0,
    CONSTRAINT customers_pkey PRIMARY KEY (id),
    CONSTRAINT customers_email_key UNIQUE (email),
    CONSTRAINT customers_score_check CHECK (score >= 0)
);
""",
    "orders": """
CREATE TABLE app.orders (
    id bigserial,
    customer_id bigint NOT NULL,
    total numeric(12,2) NOT NULL,
    status text NOT NULL DEFAULT 'new',
    total_with_tax numeric GENERATED ALWAYS AS (total * 1.2) STORED,
    placed_on date NOT NULL DEFAULT CURRENT_DATE,
    note character varying,
    CONSTRAINT orders_pkey PRIMARY KEY (id)
);
""",
    "products": """
CREATE TABLE app.products (
    sku character varying(40) PRIMARY KEY,
    title text,
    tags text[],
    price real,
    updated timestamp(3) without time zone
);
""",
    "order_items": """
CREATE TABLE app.order_items (
    order_id bigint NOT NULL,
    line integer NOT NULL,
    sku character varying(40) NOT NULL,
    qty smallint NOT NULL DEFAULT 1,
    CONSTRAINT order_items_pkey PRIMARY KEY (order_id, line),
    CONSTRAINT order_items_qty_check CHECK (qty > 0)
);
""",
    "fks": """
ALTER TABLE app.orders ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id)
    REFERENCES app.customers (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE app.order_items ADD CONSTRAINT order_items_order_fkey FOREIGN KEY (order_id)
    REFERENCES app.orders (id) MATCH FULL ON UPDATE RESTRICT;
ALTER TABLE app.order_items ADD CONSTRAINT order_items_sku_fkey FOREIGN KEY (sku)
    REFERENCES app.products (sku) ON DELETE SET NULL NOT VALID;
""",
    "events": """
CREATE TABLE audit.events (
    id bigint NOT NULL,
    happened date NOT NULL,
    kind text,
    payload jsonb
) PARTITION BY RANGE (happened);
CREATE TABLE audit.events_2023 PARTITION OF audit.events
    FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE audit.events_2024 PARTITION OF audit.events
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE audit.events_default PARTITION OF audit.events DEFAULT;
ALTER TABLE audit.events ADD CONSTRAINT events_pkey PRIMARY KEY (id, happened);
CREATE INDEX events_happened_idx ON audit.events (happened);
""",
    "logins": """
CREATE TABLE audit.logins (user_id integer, region text NOT NULL, at timestamp with time zone)
    PARTITION BY LIST (region);
CREATE TABLE audit.logins_eu PARTITION OF audit.logins FOR VALUES IN ('de', 'fr')
    PARTITION BY HASH (user_id);
CREATE TABLE audit.logins_eu_0 PARTITION OF audit.logins_eu
    FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE audit.logins_eu_1 PARTITION OF audit.logins_eu
    FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE audit.logins_other PARTITION OF audit.logins DEFAULT;
""",
    "inheritance": """
CREATE TABLE app.base_doc (id integer, title text, CONSTRAINT base_doc_title_check CHECK (title <> ''));
CREATE TABLE app.tagged (tag text);
CREATE TABLE app.invoice_doc (amount numeric(8,2)) INHERITS (app.base_doc);
CREATE TABLE app.memo_doc (body text) INHERITS (app.base_doc, app.tagged);
""",
    "sessions": """
CREATE UNLOGGED TABLE app.sessions (token text PRIMARY KEY, data jsonb, expires timestamp with time zone);
CREATE INDEX sessions_expires_brin ON app.sessions USING brin (expires);
""",
    "reservations": """
CREATE TABLE app.reservations (
    id integer PRIMARY KEY,
    room integer NOT NULL,
    during tsrange,
    CONSTRAINT reservations_no_overlap EXCLUDE USING gist (during WITH &&) WHERE (room > 0)
);
""",
    "mixed": """
CREATE TABLE "Mixed Case"."Order Lines" (
    "Line No" integer NOT NULL,
    "select" text,
    "Amount" numeric,
    CONSTRAINT "Order Lines_pkey" PRIMARY KEY ("Line No")
);
CREATE INDEX "Order Lines amount" ON "Mixed Case"."Order Lines" ("Amount" DESC NULLS LAST);
""",
    "indexes": """
CREATE INDEX orders_open_idx ON app.orders (placed_on) WHERE status <> 'done';
CREATE INDEX customers_lower_email_idx ON app.customers (lower(email::text));
CREATE UNIQUE INDEX products_title_idx ON app.products (title) INCLUDE (tags);
CREATE INDEX products_tags_gin ON app.products USING gin (tags);
CREATE INDEX orders_status_hash ON app.orders USING hash (status);
CREATE INDEX order_items_sku_idx ON app.order_items (sku, qty DESC);
""",
    "sequences": """
CREATE SEQUENCE app.invoice_numbers AS integer START WITH 1000 INCREMENT BY 10
    MINVALUE 1000 MAXVALUE 999999 CACHE 5 CYCLE;
CREATE SEQUENCE audit.event_ids OWNED BY audit.events.id;
CREATE SEQUENCE "Mixed Case"."Seq" OWNED BY "Mixed Case"."Order Lines"."Line No";
CREATE SEQUENCE app.countdown INCREMENT BY -1 MINVALUE -100 MAXVALUE 0 START WITH 0;
""",
    "views": """
CREATE VIEW app.order_totals AS
    SELECT c.id, c.email, sum(o.total) AS total
    FROM app.customers c JOIN app.orders o ON o.customer_id = c.id
    GROUP BY c.id, c.email;
CREATE VIEW app.top_customers AS
    SELECT * FROM app.order_totals ORDER BY total DESC LIMIT 10;
CREATE VIEW "Mixed Case"."Lines View" AS SELECT "Line No", "select" FROM "Mixed Case"."Order Lines";
""",
    "matviews": """
CREATE MATERIALIZED VIEW audit.daily_counts AS
    SELECT happened, count(*) AS n FROM audit.events GROUP BY happened;
CREATE UNIQUE INDEX daily_counts_happened_idx ON audit.daily_counts (happened);
CREATE MATERIALIZED VIEW app.product_skus AS SELECT sku FROM app.products WITH NO DATA;
""",
}

NATURAL = ["schemas", "customers", "orders", "products", "order_items", "fks", "events",
           "logins", "inheritance", "sessions", "reservations", "mixed", "indexes",
           "sequences", "views", "matviews"]

# Same objects, other order; some steps by other routes (see ALTERNATE).
REORDERED = ["schemas", "mixed", "reservations", "sessions", "logins", "events", "products",
             "order_items", "orders", "customers", "inheritance", "sequences", "indexes",
             "fks", "matviews", "views"]

ALTERNATE = {
    "schemas": """
CREATE SCHEMA "Mixed Case";
CREATE SCHEMA audit;
CREATE SCHEMA app;
""",
    # bigserial spelled out; the primary key added afterwards.
    "orders": """
CREATE SEQUENCE app.orders_id_seq;
CREATE TABLE app.orders (
    id bigint NOT NULL DEFAULT nextval('app.orders_id_seq'::regclass),
    customer_id bigint NOT NULL,
    total numeric(12,2) NOT NULL,
    status text NOT NULL DEFAULT 'new'::text,
    total_with_tax numeric GENERATED ALWAYS AS (total * 1.2) STORED,
    placed_on date NOT NULL DEFAULT CURRENT_DATE,
    note varchar
);
ALTER SEQUENCE app.orders_id_seq OWNED BY app.orders.id;
ALTER TABLE app.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);
""",
    # Constraints added after the table; a column added later instead of inline.
    "customers": """
CREATE TABLE app.customers (
    id bigint NOT NULL,
    email varchar(200) NOT NULL,
    name text COLLATE pg_catalog."C",
    created_at timestamptz DEFAULT now()
);
ALTER TABLE app.customers ALTER COLUMN created_at SET NOT NULL;
ALTER TABLE app.customers ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 2);
ALTER TABLE app.customers ADD COLUMN score numeric(10,2) DEFAULT 0;
ALTER TABLE app.customers ADD CONSTRAINT customers_score_check CHECK (score >= 0);
ALTER TABLE app.customers ADD CONSTRAINT customers_email_key UNIQUE (email);
ALTER TABLE app.customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id);
""",
    # Partitions created standalone and attached; partitioned index before the partitions.
    "events": """
CREATE TABLE audit.events (
    id bigint NOT NULL,
    happened date NOT NULL,
    kind text,
    payload jsonb
) PARTITION BY RANGE (happened);
ALTER TABLE audit.events ADD CONSTRAINT events_pkey PRIMARY KEY (id, happened);
CREATE INDEX events_happened_idx ON audit.events (happened);
CREATE TABLE audit.events_default PARTITION OF audit.events DEFAULT;
CREATE TABLE audit.events_2024 PARTITION OF audit.events
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE audit.events_2023 PARTITION OF audit.events
    FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
""",
    "fks": """
ALTER TABLE app.order_items ADD CONSTRAINT order_items_sku_fkey FOREIGN KEY (sku)
    REFERENCES app.products (sku) ON DELETE SET NULL NOT VALID;
ALTER TABLE app.order_items ADD CONSTRAINT order_items_order_fkey FOREIGN KEY (order_id)
    REFERENCES app.orders (id) MATCH FULL ON UPDATE RESTRICT;
ALTER TABLE app.orders ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id)
    REFERENCES app.customers (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
""",
}

DATA_SQL = """
INSERT INTO app.customers (email, name, score)
    SELECT 'c' || g || '@example.com', 'name ' || g, g FROM generate_series(1, 200) g;
INSERT INTO app.products (sku, title, tags, price)
    SELECT 'sku-' || g, 'title ' || g, ARRAY['t' || (g % 7)], g FROM generate_series(1, 100) g;
INSERT INTO app.orders (customer_id, total, status)
    SELECT 10 + 2 * (g % 200), g * 1.5, CASE WHEN g % 3 = 0 THEN 'done' ELSE 'new' END
    FROM generate_series(1, 1000) g;
INSERT INTO app.order_items (order_id, line, sku, qty)
    SELECT o.id, l, 'sku-' || (1 + (o.id + l) % 100), 1 + l FROM app.orders o, generate_series(1, 3) l;
INSERT INTO audit.events
    SELECT g, DATE '2023-01-01' + (g % 900), 'k' || (g % 5), '{}' FROM generate_series(1, 2000) g;
INSERT INTO audit.logins SELECT g, (ARRAY['de', 'fr', 'us'])[1 + g % 3], now() FROM generate_series(1, 300) g;
INSERT INTO app.reservations
    SELECT g, 1 + g % 10, tsrange(TIMESTAMP '2024-01-01' + g * INTERVAL '1 day',
                                  TIMESTAMP '2024-01-01' + g * INTERVAL '1 day' + INTERVAL '1 hour')
    FROM generate_series(1, 200) g;
INSERT INTO "Mixed Case"."Order Lines" SELECT g, 'x', g FROM generate_series(1, 50) g;
REFRESH MATERIALIZED VIEW audit.daily_counts;
"""


def natural_sql():
    return "\n".join(STEPS[s] for s in NATURAL)


def reordered_sql():
    return "\n".join(ALTERNATE.get(s, STEPS[s]) for s in REORDERED)


assert sorted(NATURAL) == sorted(REORDERED) == sorted(STEPS)
