/* Benchmark input: prints deterministic SQL for a realistic schema of N tables. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * gen_schema [-s SEED] [-v] N  >  schema.sql
 *
 * The output depends only on N and SEED (a PRNG of our own, never rand()).
 * Shape per 200 tables, roughly: 200 tables of 5..24 columns (about 14.5
 * on average, ~74k columns at 5,000 tables), about 4 indexes each (primary
 * key, most foreign keys, unique, btree on timestamps, partial, expression,
 * INCLUDE, GIN on jsonb), 4 views, 2 materialized views, one partitioned
 * table with 3 partitions (range, list or hash), a standalone sequence, 2
 * identity columns, and a shared id sequence per schema: at 5,000 tables
 * about 5,350 relations, 74k columns and 20k indexes.  Tables spread over N/250+1 schemas, the
 * first being public.  Foreign keys point at earlier tables, mostly in the
 * same schema.  The SQL needs PostgreSQL 13 or later (gen_random_uuid) and
 * a max_locks_per_transaction of about 1024 when loaded in one transaction.
 * With -v, counts of what was generated go to stderr.
 */

#define GEN_MAX_COLS 48

struct gen_rng {
	uint64_t s[4];
};

static uint64_t gen_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void gen_rng_seed(struct gen_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = gen_splitmix(&seed);
}

static uint64_t gen_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static uint64_t gen_next(struct gen_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = gen_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = gen_rotl(s[3], 45);
	return result;
}

/* Uniform in [0, n). */
static unsigned gen_below(struct gen_rng *r, unsigned n)
{
	return (unsigned)((gen_next(r) >> 32) * n >> 32);
}

/* True with probability pct percent. */
static bool gen_chance(struct gen_rng *r, unsigned pct)
{
	return gen_below(r, 100) < pct;
}

enum gen_type {
	GT_INT,
	GT_BIGINT,
	GT_SMALLINT,
	GT_NUMERIC,
	GT_VARCHAR,
	GT_TEXT,
	GT_TSTZ,
	GT_DATE,
	GT_BOOL,
	GT_JSONB,
	GT_UUID,
	GT_TEXTARR,
	GT_INTARR,
	GT_DOUBLE,
	GT_BYTEA,
	GT_INET,
	GT_INTERVAL,
	GT_CHAR,
};

struct gen_colspec {
	const char *name;
	enum gen_type type;
};

/* Data columns a table may have (besides id, foreign keys and timestamps). */
static const struct gen_colspec gen_cols[] = {
	{"name", GT_VARCHAR},        {"title", GT_VARCHAR},       {"email", GT_VARCHAR},
	{"status", GT_VARCHAR},      {"code", GT_VARCHAR},        {"description", GT_TEXT},
	{"amount", GT_NUMERIC},      {"price", GT_NUMERIC},       {"quantity", GT_INT},
	{"total", GT_NUMERIC},       {"currency", GT_CHAR},       {"notes", GT_TEXT},
	{"phone", GT_VARCHAR},       {"address_line", GT_VARCHAR}, {"city", GT_VARCHAR},
	{"country_code", GT_CHAR},   {"postal_code", GT_VARCHAR}, {"rating", GT_SMALLINT},
	{"score", GT_DOUBLE},        {"priority", GT_SMALLINT},   {"category", GT_VARCHAR},
	{"label", GT_TEXT},          {"source", GT_VARCHAR},      {"reference", GT_VARCHAR},
	{"external_id", GT_UUID},    {"metadata", GT_JSONB},      {"settings", GT_JSONB},
	{"tags", GT_TEXTARR},        {"flags", GT_INTARR},        {"is_active", GT_BOOL},
	{"is_archived", GT_BOOL},    {"version", GT_INT},         {"weight", GT_NUMERIC},
	{"url", GT_TEXT},            {"token", GT_TEXT},          {"checksum", GT_BYTEA},
	{"ip_address", GT_INET},     {"started_at", GT_TSTZ},     {"finished_at", GT_TSTZ},
	{"due_date", GT_DATE},       {"birth_date", GT_DATE},     {"balance", GT_NUMERIC},
	{"discount", GT_NUMERIC},    {"tax_rate", GT_NUMERIC},    {"comment", GT_TEXT},
	{"locale", GT_VARCHAR},      {"timezone", GT_TEXT},       {"payload", GT_JSONB},
	{"attributes", GT_JSONB},    {"sku", GT_VARCHAR},         {"slug", GT_VARCHAR},
	{"summary", GT_TEXT},        {"body", GT_TEXT},           {"kind", GT_VARCHAR},
	{"level", GT_INT},           {"sort_order", GT_INT},      {"retry_count", GT_INT},
	{"duration", GT_INTERVAL},   {"size_bytes", GT_BIGINT},   {"counter", GT_BIGINT},
	{"latitude", GT_DOUBLE},     {"longitude", GT_DOUBLE},    {"processed_at", GT_TSTZ},
	{"expires_at", GT_TSTZ},     {"owner_name", GT_VARCHAR},  {"mime_type", GT_VARCHAR},
};
#define GEN_NCOLS (sizeof(gen_cols) / sizeof(gen_cols[0]))

static const char *const gen_nouns[] = {
	"accounts", "orders", "order_items", "customers", "invoices", "payments",
	"shipments", "products", "categories", "suppliers", "warehouses", "stock_moves",
	"users", "sessions", "roles", "permissions", "audit_log", "events",
	"subscriptions", "plans", "coupons", "refunds", "tickets", "messages",
	"attachments", "comments", "projects", "tasks", "milestones", "documents",
	"contracts", "vendors", "employees", "departments", "timesheets", "expenses",
	"budgets", "ledger_entries", "journals", "tax_codes", "addresses", "contacts",
	"leads", "opportunities", "campaigns", "devices", "readings", "alerts",
	"jobs", "job_runs", "webhooks", "api_keys", "notifications", "settings",
	"regions", "stores", "carts", "cart_items", "reviews", "wishlists",
	"returns", "price_lists", "currencies", "exchange_rates",
};
#define GEN_NNOUNS (sizeof(gen_nouns) / sizeof(gen_nouns[0]))

static const char *const gen_schema_names[] = {
	"public", "billing", "inventory", "crm", "sales", "hr", "analytics", "auth",
	"catalog", "shipping", "support", "finance", "marketing", "ops", "reporting",
	"audit", "iot", "payments", "content", "partners", "legal", "ledger", "search",
	"scheduling",
};
#define GEN_NSCHEMA_NAMES (sizeof(gen_schema_names) / sizeof(gen_schema_names[0]))

struct gen_table {
	unsigned schema;
	char name[48];     /* unquoted */
	char ident[56];    /* as written in SQL (quoted when needed) */
	bool pk_uuid;
	bool unlogged; /* never a foreign key target */
	const char *pk_type; /* "bigint", "uuid" or "integer" */
	char text_col[32];  /* a varchar/text column for views, "" if none */
	char num_col[32];   /* a numeric column, "" if none */
	char fk_col[32];    /* first foreign key column, "" if none */
	unsigned fk_target; /* table index of fk_col's target */
};

struct gen_counts {
	unsigned long tables, columns, indexes, fks, views, matviews, partitioned,
		partitions, sequences, checks, uniques;
};

struct gen {
	struct gen_rng rng;
	unsigned n_tables;
	unsigned n_schemas;
	char (*schemas)[32];
	struct gen_table *tables;
	struct gen_counts c;
	unsigned n_extra; /* running number for views, sequences, ... */
};

static void gen_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void gen_out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static const char *gen_schema(const struct gen *g, unsigned s)
{
	return g->schemas[s];
}

/* Writes the SQL type for t into buf. */
static void gen_type_sql(struct gen *g, enum gen_type t, char *buf, size_t size)
{
	static const unsigned varchar_len[] = {32, 64, 100, 128, 255, 255, 512, 2000};
	static const unsigned numeric_ps[][2] = {{10, 2}, {12, 2}, {12, 2}, {14, 4},
						 {18, 6}, {5, 2}, {20, 0}, {8, 3}};

	switch (t) {
	case GT_INT: snprintf(buf, size, "integer"); break;
	case GT_BIGINT: snprintf(buf, size, "bigint"); break;
	case GT_SMALLINT: snprintf(buf, size, "smallint"); break;
	case GT_NUMERIC: {
		unsigned k = gen_below(&g->rng, 9);
		if (k == 8)
			snprintf(buf, size, "numeric");
		else
			snprintf(buf, size, "numeric(%u,%u)", numeric_ps[k][0], numeric_ps[k][1]);
		break;
	}
	case GT_VARCHAR:
		snprintf(buf, size, "varchar(%u)", varchar_len[gen_below(&g->rng, 8)]);
		break;
	case GT_TEXT: snprintf(buf, size, "text"); break;
	case GT_TSTZ:
		snprintf(buf, size, gen_chance(&g->rng, 90) ? "timestamptz" : "timestamp(3)");
		break;
	case GT_DATE: snprintf(buf, size, "date"); break;
	case GT_BOOL: snprintf(buf, size, "boolean"); break;
	case GT_JSONB: snprintf(buf, size, gen_chance(&g->rng, 90) ? "jsonb" : "json"); break;
	case GT_UUID: snprintf(buf, size, "uuid"); break;
	case GT_TEXTARR: snprintf(buf, size, "text[]"); break;
	case GT_INTARR: snprintf(buf, size, "integer[]"); break;
	case GT_DOUBLE: snprintf(buf, size, "double precision"); break;
	case GT_BYTEA: snprintf(buf, size, "bytea"); break;
	case GT_INET: snprintf(buf, size, "inet"); break;
	case GT_INTERVAL: snprintf(buf, size, "interval"); break;
	case GT_CHAR:
		snprintf(buf, size, "char(%u)", gen_chance(&g->rng, 50) ? 3u : 2u);
		break;
	}
}

static const char *gen_default_sql(struct gen *g, enum gen_type t, const char *type_sql)
{
	switch (t) {
	case GT_INT:
	case GT_BIGINT:
	case GT_SMALLINT:
	case GT_DOUBLE:
		return gen_chance(&g->rng, 70) ? "0" : "1";
	case GT_NUMERIC: return "0";
	case GT_VARCHAR: return gen_chance(&g->rng, 50) ? "''" : "'new'";
	case GT_TEXT: return "''";
	case GT_TSTZ: return strcmp(type_sql, "timestamptz") == 0 ? "now()" : "CURRENT_TIMESTAMP";
	case GT_DATE: return "CURRENT_DATE";
	case GT_BOOL: return gen_chance(&g->rng, 60) ? "false" : "true";
	case GT_JSONB: return strcmp(type_sql, "jsonb") == 0 ? "'{}'::jsonb" : "'{}'::json";
	case GT_UUID: return "gen_random_uuid()";
	case GT_TEXTARR: return "'{}'::text[]";
	case GT_INTARR: return "'{}'::integer[]";
	case GT_INTERVAL: return "'00:00:00'::interval";
	case GT_CHAR: return "'EUR'";
	case GT_BYTEA:
	case GT_INET:
		return NULL;
	}
	return NULL;
}

struct gen_col {
	char name[40];
	char type[32];
	enum gen_type t;
	bool fixed;
};

/* Columns every table may have; kept out of the per-column index choices. */
static void gen_fixed_col(struct gen_col *c, const char *name, const char *type, enum gen_type t)
{
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->type, sizeof(c->type), "%s", type);
	c->t = t;
	c->fixed = true;
}

struct gen_idx_names {
	char names[24][64];
	unsigned n;
};

/* A unique index name for this table: base, or base with a number. */
static const char *gen_idx_name(struct gen_idx_names *in, const char *table, const char *what)
{
	static char buf[64];
	unsigned k = 1;

	snprintf(buf, sizeof(buf), "%.30s_%.24s_idx", table, what);
	for (;;) {
		bool used = false;
		for (unsigned i = 0; i < in->n; i++)
			if (strcmp(in->names[i], buf) == 0)
				used = true;
		if (!used)
			break;
		snprintf(buf, sizeof(buf), "%.30s_%.24s_idx%u", table, what, ++k);
	}
	if (in->n < 24)
		snprintf(in->names[in->n++], 64, "%s", buf);
	return buf;
}

static void gen_index(struct gen *g, struct gen_idx_names *in, const struct gen_table *t,
		      const char *what, const char *rest)
{
	const char *name = gen_idx_name(in, t->name, what);
	bool quote = strpbrk(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ ") != NULL;

	gen_out("CREATE INDEX %s%s%s ON %s.%s %s;\n", quote ? "\"" : "", name, quote ? "\"" : "",
		gen_schema(g, t->schema), t->ident, rest);
	g->c.indexes++;
}

static unsigned gen_pick_target_once(struct gen *g, unsigned i)
{
	unsigned j;
	unsigned s = g->tables[i].schema;

	/* 80%: any earlier table of the same schema if there is one; else any earlier table. */
	if (gen_chance(&g->rng, 80) && i > 0 && g->tables[i - 1].schema == s) {
		unsigned first = i;
		while (first > 0 && g->tables[first - 1].schema == s)
			first--;
		j = first + gen_below(&g->rng, i - first);
		return j;
	}
	return gen_below(&g->rng, i);
}

static unsigned gen_pick_target(struct gen *g, unsigned i)
{
	unsigned j;

	do
		j = gen_pick_target_once(g, i);
	while (g->tables[j].unlogged);
	return j;
}

static void gen_table(struct gen *g, unsigned i)
{
	static const char *const on_delete[] = {"", "", "", " ON DELETE CASCADE",
						" ON DELETE SET NULL", " ON DELETE RESTRICT",
						" ON UPDATE CASCADE"};
	struct gen_table *t = &g->tables[i];
	struct gen_col cols[GEN_MAX_COLS];
	bool used[GEN_NCOLS];
	struct gen_idx_names in = {.n = 0};
	unsigned n_cols = 0, n_data, n_fk, fk_targets[3], fk_cols[3];
	unsigned pk_kind = gen_below(&g->rng, 100);
	bool has_deleted = gen_chance(&g->rng, 30), has_updated = gen_chance(&g->rng, 50);
	bool unlogged = gen_chance(&g->rng, 1);
	const char *s = gen_schema(g, t->schema);

	memset(used, 0, sizeof(used));
	memset(cols, 0, sizeof(cols));
	if (gen_chance(&g->rng, 1)) {
		snprintf(t->name, sizeof(t->name), "Legacy%s_%04u",
			 gen_nouns[gen_below(&g->rng, GEN_NNOUNS)], i);
		snprintf(t->ident, sizeof(t->ident), "\"%s\"", t->name);
	} else {
		snprintf(t->name, sizeof(t->name), "%s_%04u",
			 gen_nouns[gen_below(&g->rng, GEN_NNOUNS)], i);
		snprintf(t->ident, sizeof(t->ident), "%s", t->name);
	}
	t->pk_uuid = pk_kind >= 80 && pk_kind < 95;
	t->unlogged = unlogged && i > 0;
	t->text_col[0] = t->num_col[0] = t->fk_col[0] = '\0';

	gen_out("\nCREATE %sTABLE %s.%s (\n", t->unlogged ? "UNLOGGED " : "", s, t->ident);
	/* id */
	if (t->pk_uuid)
		gen_out("\tid uuid NOT NULL DEFAULT gen_random_uuid()");
	else if (pk_kind == 96)
		gen_out("\tid bigint GENERATED %s AS IDENTITY",
			gen_chance(&g->rng, 50) ? "ALWAYS" : "BY DEFAULT");
	else if (pk_kind >= 97)
		gen_out("\tid integer NOT NULL");
	else
		gen_out("\tid bigint NOT NULL DEFAULT nextval('%s.id_seq'::regclass)", s);
	t->pk_type = pk_kind >= 97 ? "integer" : t->pk_uuid ? "uuid" : "bigint";
	n_cols++;

	/* foreign key columns: 0 (30%), 1 (35%), 2 (25%), 3 (10%) */
	{
		unsigned r = gen_below(&g->rng, 100);
		n_fk = r < 30 ? 0 : r < 65 ? 1 : r < 90 ? 2 : 3;
		if (i == 0)
			n_fk = 0;
	}
	for (unsigned k = 0; k < n_fk; k++) {
		unsigned j = gen_pick_target(g, i);
		const struct gen_table *tt = &g->tables[j];
		char base[40];
		size_t len;
		bool dup;

		/* orders_0042 -> order_id; names unique within the table */
		snprintf(base, sizeof(base), "%.30s", tt->name);
		len = strcspn(base, "_0123456789");
		if (len > 0 && base[len - 1] == 's')
			len--;
		base[len] = '\0';
		for (char *p = base; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		snprintf(cols[n_cols].name, sizeof(cols[n_cols].name), "%.30s_id", base);
		dup = false;
		for (unsigned m = 1; m < n_cols; m++)
			if (strcmp(cols[m].name, cols[n_cols].name) == 0)
				dup = true;
		if (dup)
			snprintf(cols[n_cols].name, sizeof(cols[n_cols].name), "%.30s_ref%u_id", base, k);
		fk_targets[k] = j;
		fk_cols[k] = n_cols;
		gen_out(",\n\t%s %s%s", cols[n_cols].name, tt->pk_type,
			gen_chance(&g->rng, 60) ? " NOT NULL" : "");
		snprintf(cols[n_cols].type, sizeof(cols[n_cols].type), "%s", tt->pk_type);
		cols[n_cols].t = tt->pk_uuid ? GT_UUID : GT_BIGINT;
		n_cols++;
	}
	if (n_fk > 0) {
		snprintf(t->fk_col, sizeof(t->fk_col), "%s", cols[fk_cols[0]].name);
		t->fk_target = fk_targets[0];
	}

	/* data columns: total 5..24 columns including id, FKs and timestamps */
	{
		unsigned total = 5 + gen_below(&g->rng, 20);
		unsigned fixed = n_cols + 1 + has_updated + has_deleted;
		n_data = total > fixed ? total - fixed : 1;
	}
	for (unsigned k = 0; k < n_data && n_cols < GEN_MAX_COLS - 3; k++) {
		unsigned c;
		const char *def;
		bool not_null, quoted = false;

		do
			c = gen_below(&g->rng, GEN_NCOLS);
		while (used[c]);
		used[c] = true;
		if (t->ident[0] == '"' && k == 0)
			quoted = true;
		snprintf(cols[n_cols].name, sizeof(cols[n_cols].name), quoted ? "\"Ref %s\"" : "%s",
			 gen_cols[c].name);
		cols[n_cols].t = gen_cols[c].type;
		gen_type_sql(g, cols[n_cols].t, cols[n_cols].type, sizeof(cols[n_cols].type));
		not_null = gen_chance(&g->rng, 40);
		def = gen_chance(&g->rng, 30) ? gen_default_sql(g, cols[n_cols].t, cols[n_cols].type)
					      : NULL;
		gen_out(",\n\t%s %s", cols[n_cols].name, cols[n_cols].type);
		if ((cols[n_cols].t == GT_TEXT || cols[n_cols].t == GT_VARCHAR) &&
		    gen_chance(&g->rng, 3))
			gen_out(" COLLATE \"C\"");
		if (not_null)
			gen_out(" NOT NULL");
		if (def)
			gen_out(" DEFAULT %s", def);
		if (!quoted && (cols[n_cols].t == GT_VARCHAR || cols[n_cols].t == GT_TEXT) &&
		    t->text_col[0] == '\0')
			snprintf(t->text_col, sizeof(t->text_col), "%s", cols[n_cols].name);
		if (!quoted && cols[n_cols].t == GT_NUMERIC && t->num_col[0] == '\0')
			snprintf(t->num_col, sizeof(t->num_col), "%s", cols[n_cols].name);
		n_cols++;
	}
	/* a stored generated column now and then */
	if (t->text_col[0] && gen_chance(&g->rng, 3)) {
		gen_out(",\n\t%s_lower text GENERATED ALWAYS AS (lower(%s)) STORED", t->text_col,
			t->text_col);
		gen_fixed_col(&cols[n_cols++], "generated", "text", GT_TEXT);
	}
	gen_out(",\n\tcreated_at timestamptz NOT NULL DEFAULT now()");
	gen_fixed_col(&cols[n_cols++], "created_at", "timestamptz", GT_TSTZ);
	if (has_updated) {
		gen_out(",\n\tupdated_at timestamptz");
		gen_fixed_col(&cols[n_cols++], "updated_at", "timestamptz", GT_TSTZ);
	}
	if (has_deleted) {
		gen_out(",\n\tdeleted_at timestamptz");
		gen_fixed_col(&cols[n_cols++], "deleted_at", "timestamptz", GT_TSTZ);
	}

	/* constraints */
	gen_out(",\n\tCONSTRAINT %s%s_pkey%s PRIMARY KEY (id)", t->ident[0] == '"' ? "\"" : "",
		t->name, t->ident[0] == '"' ? "\"" : "");
	g->c.indexes++;
	for (unsigned k = 0; k < n_fk; k++) {
		const struct gen_table *tt = &g->tables[fk_targets[k]];
		bool deferrable = gen_chance(&g->rng, 5);

		if (gen_chance(&g->rng, 2))
			continue; /* added NOT VALID below */
		gen_out(",\n\tCONSTRAINT %s%s_%s_fkey%s FOREIGN KEY (%s) REFERENCES %s.%s (id)%s%s",
			t->ident[0] == '"' ? "\"" : "", t->name, cols[fk_cols[k]].name,
			t->ident[0] == '"' ? "\"" : "", cols[fk_cols[k]].name,
			gen_schema(g, tt->schema), tt->ident,
			on_delete[gen_below(&g->rng, 7)],
			deferrable ? (gen_chance(&g->rng, 50) ? " DEFERRABLE INITIALLY DEFERRED"
							      : " DEFERRABLE") : "");
		g->c.fks++;
		fk_cols[k] |= 0x100; /* emitted inline */
	}
	if (t->text_col[0] && gen_chance(&g->rng, 25)) {
		gen_out(",\n\tCONSTRAINT %s%s_%s_key%s UNIQUE (%s)", t->ident[0] == '"' ? "\"" : "",
			t->name, t->text_col, t->ident[0] == '"' ? "\"" : "", t->text_col);
		g->c.uniques++;
		g->c.indexes++;
	}
	if (t->num_col[0] && gen_chance(&g->rng, 40)) {
		gen_out(",\n\tCONSTRAINT %s%s_%s_check%s CHECK (%s >= 0)",
			t->ident[0] == '"' ? "\"" : "", t->name, t->num_col,
			t->ident[0] == '"' ? "\"" : "", t->num_col);
		g->c.checks++;
	}
	if (has_deleted && gen_chance(&g->rng, 20)) {
		gen_out(",\n\tCONSTRAINT %s%s_dates_check%s CHECK (deleted_at IS NULL OR deleted_at >= created_at)",
			t->ident[0] == '"' ? "\"" : "", t->name, t->ident[0] == '"' ? "\"" : "");
		g->c.checks++;
	}
	gen_out("\n);\n");
	g->c.tables++;
	g->c.columns += n_cols;

	/* NOT VALID foreign keys */
	for (unsigned k = 0; k < n_fk; k++) {
		const struct gen_table *tt = &g->tables[fk_targets[k]];

		if (fk_cols[k] & 0x100) {
			fk_cols[k] &= 0xff;
			continue;
		}
		gen_out("ALTER TABLE %s.%s ADD CONSTRAINT %s%s_%s_fkey%s FOREIGN KEY (%s) "
			"REFERENCES %s.%s (id) NOT VALID;\n",
			s, t->ident, t->ident[0] == '"' ? "\"" : "", t->name,
			cols[fk_cols[k]].name, t->ident[0] == '"' ? "\"" : "",
			cols[fk_cols[k]].name, gen_schema(g, tt->schema), tt->ident);
		g->c.fks++;
	}

	/* indexes */
	for (unsigned k = 0; k < n_fk; k++) {
		char rest[128];

		if (!gen_chance(&g->rng, 80))
			continue;
		snprintf(rest, sizeof(rest), "(%s)", cols[fk_cols[k]].name);
		gen_index(g, &in, t, cols[fk_cols[k]].name, rest);
	}
	if (gen_chance(&g->rng, 40))
		gen_index(g, &in, t, "created_at",
			  gen_chance(&g->rng, 30) ? "(created_at DESC)" : "(created_at)");
	if (has_deleted && gen_chance(&g->rng, 70)) {
		char rest[160];

		if (n_fk > 0)
			snprintf(rest, sizeof(rest), "(%s) WHERE deleted_at IS NULL",
				 cols[fk_cols[0]].name);
		else
			snprintf(rest, sizeof(rest), "(created_at) WHERE deleted_at IS NULL");
		gen_index(g, &in, t, "live", rest);
	}
	if (t->text_col[0] && gen_chance(&g->rng, 25)) {
		char rest[128];

		snprintf(rest, sizeof(rest), "(lower(%s))", t->text_col);
		gen_index(g, &in, t, "lower", rest);
	}
	if (gen_chance(&g->rng, 20)) {
		char rest[160];
		unsigned c = n_cols > 2 ? 1 + gen_below(&g->rng, n_cols - 2) : 0;

		if (c > 0 && cols[c].name[0] != '"' && !cols[c].fixed && cols[c].t != GT_JSONB &&
		    strcmp(cols[c].type, "json") != 0 && cols[c].t != GT_TEXTARR &&
		    cols[c].t != GT_INTARR) {
			snprintf(rest, sizeof(rest), "(%s) INCLUDE (created_at)", cols[c].name);
			gen_index(g, &in, t, "incl", rest);
		}
	}
	if (t->num_col[0] && gen_chance(&g->rng, 10)) {
		char rest[160];

		snprintf(rest, sizeof(rest), "(%s) WHERE %s > 0", t->num_col, t->num_col);
		gen_index(g, &in, t, "positive", rest);
	}
	for (unsigned c = 1; c < n_cols && c < GEN_MAX_COLS; c++) {
		char rest[128];

		if (cols[c].name[0] == '\0' || cols[c].name[0] == '"' || cols[c].fixed)
			continue;
		if (cols[c].t == GT_JSONB && strcmp(cols[c].type, "jsonb") == 0 &&
		    gen_chance(&g->rng, 70)) {
			snprintf(rest, sizeof(rest), "USING gin (%s%s)", cols[c].name,
				 gen_chance(&g->rng, 30) ? " jsonb_path_ops" : "");
			gen_index(g, &in, t, "gin", rest);
		} else if (cols[c].t == GT_TEXTARR && gen_chance(&g->rng, 40)) {
			snprintf(rest, sizeof(rest), "USING gin (%s)", cols[c].name);
			gen_index(g, &in, t, "gin", rest);
		} else if (cols[c].t == GT_TSTZ && c > n_fk && gen_chance(&g->rng, 20)) {
			snprintf(rest, sizeof(rest), "(%s)", cols[c].name);
			gen_index(g, &in, t, cols[c].name, rest);
		} else if (strcmp(cols[c].name, "status") == 0 && gen_chance(&g->rng, 50)) {
			snprintf(rest, sizeof(rest), "(created_at) WHERE status = 'pending'");
			gen_index(g, &in, t, "pending", rest);
		}
	}
}

static void gen_partitioned(struct gen *g, unsigned schema)
{
	unsigned n = g->n_extra++;
	unsigned style = gen_below(&g->rng, 3);
	const char *s = gen_schema(g, schema);

	gen_out("\nCREATE TABLE %s.events_p%u (\n"
		"\tid bigint NOT NULL,\n"
		"\toccurred_at timestamptz NOT NULL,\n"
		"\tkind varchar(32) NOT NULL,\n"
		"\taccount_id bigint NOT NULL,\n"
		"\tamount numeric(12,2),\n"
		"\tsource text DEFAULT 'api'::text,\n"
		"\tpayload jsonb NOT NULL DEFAULT '{}'::jsonb,\n",
		s, n);
	switch (style) {
	case 0:
		gen_out("\tCONSTRAINT events_p%u_pkey PRIMARY KEY (id, occurred_at)\n"
			") PARTITION BY RANGE (occurred_at);\n", n);
		for (unsigned y = 2023; y < 2026; y++)
			gen_out("CREATE TABLE %s.events_p%u_%u PARTITION OF %s.events_p%u "
				"FOR VALUES FROM ('%u-01-01') TO ('%u-01-01');\n",
				s, n, y, s, n, y, y + 1);
		break;
	case 1:
		gen_out("\tCONSTRAINT events_p%u_pkey PRIMARY KEY (id, kind)\n"
			") PARTITION BY LIST (kind);\n", n);
		gen_out("CREATE TABLE %s.events_p%u_click PARTITION OF %s.events_p%u "
			"FOR VALUES IN ('click', 'view');\n", s, n, s, n);
		gen_out("CREATE TABLE %s.events_p%u_order PARTITION OF %s.events_p%u "
			"FOR VALUES IN ('order');\n", s, n, s, n);
		gen_out("CREATE TABLE %s.events_p%u_other PARTITION OF %s.events_p%u DEFAULT;\n",
			s, n, s, n);
		break;
	default:
		gen_out("\tCONSTRAINT events_p%u_pkey PRIMARY KEY (id, account_id)\n"
			") PARTITION BY HASH (account_id);\n", n);
		for (unsigned r = 0; r < 3; r++)
			gen_out("CREATE TABLE %s.events_p%u_h%u PARTITION OF %s.events_p%u "
				"FOR VALUES WITH (MODULUS 3, REMAINDER %u);\n", s, n, r, s, n, r);
		break;
	}
	gen_out("CREATE INDEX events_p%u_account_idx ON %s.events_p%u (account_id, occurred_at);\n",
		n, s, n);
	gen_out("CREATE INDEX events_p%u_payload_idx ON %s.events_p%u USING gin (payload);\n",
		n, s, n);
	g->c.partitioned++;
	g->c.partitions += 3;
	g->c.columns += 4 * 7;
	g->c.indexes += 4 * 3;
}

static void gen_view(struct gen *g, unsigned i)
{
	const struct gen_table *t = &g->tables[i];
	const char *s = gen_schema(g, t->schema);
	unsigned n = g->n_extra++;

	if (t->fk_col[0]) {
		const struct gen_table *r = &g->tables[t->fk_target];

		gen_out("\nCREATE VIEW %s.%s_v%u AS\n\tSELECT t.id, t.created_at, t.%s%s%s, r.id AS ref_id%s%s%s\n"
			"\tFROM %s.%s t JOIN %s.%s r ON r.id = t.%s\n\tWHERE t.created_at > now() - '30 days'::interval;\n",
			s, t->name[0] == 'L' ? "legacy" : t->name, n, t->fk_col,
			t->text_col[0] ? ", t." : "", t->text_col,
			r->text_col[0] ? ", r." : "", r->text_col,
			r->text_col[0] ? " AS ref_label" : "",
			s, t->ident, gen_schema(g, r->schema), r->ident, t->fk_col);
		g->c.columns += 4 + (t->text_col[0] != 0) + (r->text_col[0] != 0);
	} else {
		gen_out("\nCREATE VIEW %s.%s_v%u AS\n\tSELECT id, created_at%s%s\n\tFROM %s.%s\n"
			"\tORDER BY created_at DESC;\n",
			s, t->name[0] == 'L' ? "legacy" : t->name, n,
			t->text_col[0] ? ", " : "", t->text_col, s, t->ident);
		g->c.columns += 2 + (t->text_col[0] != 0);
	}
	g->c.views++;
}

static void gen_matview(struct gen *g, unsigned i)
{
	const struct gen_table *t = &g->tables[i];
	const char *s = gen_schema(g, t->schema);
	unsigned n = g->n_extra++;
	const char *key = t->fk_col[0] ? t->fk_col : "date_trunc('day', created_at)";

	gen_out("\nCREATE MATERIALIZED VIEW %s.stats_m%u AS\n"
		"\tSELECT %s AS key, count(*) AS n, max(created_at) AS last_at%s%s%s\n"
		"\tFROM %s.%s GROUP BY 1;\n",
		s, n, key, t->num_col[0] ? ", sum(" : "", t->num_col,
		t->num_col[0] ? ") AS sum_value" : "", s, t->ident);
	gen_out("CREATE UNIQUE INDEX stats_m%u_key_idx ON %s.stats_m%u (key);\n", n, s, n);
	g->c.matviews++;
	g->c.columns += 3 + (t->num_col[0] != 0);
	g->c.indexes++;
}

static void gen_sequence(struct gen *g, unsigned i)
{
	static const char *const types[] = {"bigint", "bigint", "integer", "smallint"};
	const struct gen_table *t = &g->tables[i];
	const char *s = gen_schema(g, t->schema);
	unsigned n = g->n_extra++;
	const char *type = types[gen_below(&g->rng, 4)];

	gen_out("\nCREATE SEQUENCE %s.number_seq%u AS %s START WITH %u INCREMENT BY %u "
		"CACHE %u%s;\n",
		s, n, type, 1000 + gen_below(&g->rng, 9000), gen_chance(&g->rng, 80) ? 1u : 10u,
		gen_chance(&g->rng, 70) ? 1u : 20u, gen_chance(&g->rng, 10) ? " CYCLE" : "");
	if (gen_chance(&g->rng, 50))
		gen_out("ALTER SEQUENCE %s.number_seq%u OWNED BY %s.%s.created_at;\n", s, n, s,
			t->ident);
	g->c.sequences++;
}

/*
 * With -k, every other kind of object as well (issue 3's benchmark): per
 * schema an enum, a domain, a trigger function, default privileges and a
 * comment; per table a comment, and by turns a grant, a trigger, a policy
 * with row security, a function, a rule and a statistics object; once, an
 * extension and a publication.
 */
static void gen_kinds_prelude(void)
{
	gen_out("DO $$ BEGIN CREATE ROLE bench_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;\n");
	gen_out("CREATE EXTENSION IF NOT EXISTS pg_trgm;\n");
}

static void gen_kinds_schema(const char *s)
{
	gen_out("CREATE TYPE %s.status_enum AS ENUM ('new', 'paid', 'shipped', 'done');\n", s);
	gen_out("CREATE DOMAIN %s.positive_int AS integer CHECK (VALUE > 0);\n", s);
	gen_out("CREATE FUNCTION %s.touch() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
		"BEGIN\n  RETURN NEW;\nEND\n$f$;\n", s);
	gen_out("ALTER DEFAULT PRIVILEGES IN SCHEMA %s GRANT SELECT ON TABLES TO bench_reader;\n", s);
	gen_out("COMMENT ON SCHEMA %s IS 'benchmark schema %s';\n", s, s);
}

static void gen_kinds_table(const struct gen *g, unsigned i)
{
	const struct gen_table *t = &g->tables[i];
	const char *s = g->schemas[t->schema];

	gen_out("COMMENT ON TABLE %s.%s IS 'table %u of the benchmark';\n", s, t->ident, i);
	if (i % 2 == 0)
		gen_out("GRANT SELECT ON %s.%s TO bench_reader;\n", s, t->ident);
	if (i % 10 == 3)
		gen_out("CREATE TRIGGER touch_%u BEFORE UPDATE ON %s.%s FOR EACH ROW EXECUTE FUNCTION "
			"%s.touch();\n", i, s, t->ident, s);
	if (i % 25 == 7)
		gen_out("ALTER TABLE %s.%s ENABLE ROW LEVEL SECURITY;\n"
			"CREATE POLICY readers ON %s.%s FOR SELECT TO bench_reader USING (true);\n",
			s, t->ident, s, t->ident);
	if (i % 20 == 11)
		gen_out("CREATE FUNCTION %s.f_%u(x integer) RETURNS integer LANGUAGE sql IMMUTABLE "
			"AS 'SELECT x + %u';\n", s, i, i);
	if (i % 100 == 13)
		gen_out("CREATE RULE no_truncate_%u AS ON DELETE TO %s.%s WHERE false DO INSTEAD NOTHING;\n",
			i, s, t->ident);
	if (i % 100 == 17 && t->text_col[0])
		gen_out("CREATE STATISTICS %s.st_%u ON id, %s FROM %s.%s;\n", s, i, t->text_col, s,
			t->ident);
}

static void gen_usage(void)
{
	fprintf(stderr, "usage: gen_schema [-s SEED] [-v] [-k] N\n");
}

int main(int argc, char **argv)
{
	struct gen g;
	uint64_t seed = 42;
	bool verbose = false, kinds = false;
	long n = -1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "-v") == 0) {
			verbose = true;
		} else if (strcmp(argv[i], "-k") == 0) {
			kinds = true;
		} else if (argv[i][0] != '-' && n < 0) {
			char *end;
			errno = 0;
			n = strtol(argv[i], &end, 10);
			if (errno || *end || n < 1 || n > 1000000) {
				gen_usage();
				return 2;
			}
		} else {
			gen_usage();
			return 2;
		}
	}
	if (n < 1) {
		gen_usage();
		return 2;
	}

	memset(&g, 0, sizeof(g));
	gen_rng_seed(&g.rng, seed ^ ((uint64_t)n << 32));
	g.n_tables = (unsigned)n;
	g.n_schemas = g.n_tables / 250 + 1;
	g.schemas = calloc(g.n_schemas, sizeof(*g.schemas));
	g.tables = calloc(g.n_tables, sizeof(*g.tables));
	if (!g.schemas || !g.tables) {
		fprintf(stderr, "gen_schema: out of memory\n");
		return 2;
	}
	for (unsigned s = 0; s < g.n_schemas; s++) {
		if (s < GEN_NSCHEMA_NAMES)
			snprintf(g.schemas[s], sizeof(g.schemas[s]), "%s", gen_schema_names[s]);
		else
			snprintf(g.schemas[s], sizeof(g.schemas[s]), "%s_%u",
				 gen_schema_names[1 + s % (GEN_NSCHEMA_NAMES - 1)], s);
	}
	for (unsigned i = 0; i < g.n_tables; i++)
		g.tables[i].schema = (unsigned)((uint64_t)i * g.n_schemas / g.n_tables);

	gen_out("-- schemadrift benchmark schema: %u tables, %u schemas, seed %llu\n",
		g.n_tables, g.n_schemas, (unsigned long long)seed);
	gen_out("SET client_min_messages = warning;\n");
	if (kinds)
		gen_kinds_prelude();
	for (unsigned s = 0; s < g.n_schemas; s++) {
		if (strcmp(g.schemas[s], "public") != 0)
			gen_out("CREATE SCHEMA %s;\n", g.schemas[s]);
		gen_out("CREATE SEQUENCE %s.id_seq AS bigint;\n", g.schemas[s]);
		g.c.sequences++;
		if (kinds)
			gen_kinds_schema(g.schemas[s]);
	}

	for (unsigned i = 0; i < g.n_tables; i++) {
		gen_table(&g, i);
		if (kinds)
			gen_kinds_table(&g, i);
		/* every 200 tables: 4 views, 2 matviews, 1 partitioned, 1 sequence */
		switch (i % 200) {
		case 20: case 70: case 120: case 170:
			gen_view(&g, i - gen_below(&g.rng, 10));
			break;
		case 45: case 145:
			gen_matview(&g, i - gen_below(&g.rng, 10));
			break;
		case 99:
			gen_partitioned(&g, g.tables[i].schema);
			break;
		case 60:
			gen_sequence(&g, i);
			break;
		default:
			break;
		}
	}

	if (kinds)
		gen_out("CREATE PUBLICATION bench_pub FOR TABLE %s.%s;\n",
			g.schemas[g.tables[0].schema], g.tables[0].ident);
	if (verbose)
		fprintf(stderr,
			"gen_schema: %u schemas, %lu tables, %lu partitioned (+%lu partitions), "
			"%lu views, %lu matviews, %lu sequences (+identity), ~%lu columns, "
			"%lu indexes, %lu foreign keys, %lu unique, %lu checks\n",
			g.n_schemas, g.c.tables, g.c.partitioned, g.c.partitions, g.c.views,
			g.c.matviews, g.c.sequences, g.c.columns, g.c.indexes, g.c.fks,
			g.c.uniques, g.c.checks);
	free(g.schemas);
	free(g.tables);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gen_schema: write error\n");
		return 2;
	}
	return 0;
}
