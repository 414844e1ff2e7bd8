/* Catalog reader: pipelined set-based pg_catalog queries in one read-only transaction. */
#include "catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Every query excludes system schemas with the same predicate on the
 * namespace alias `n`.  Temporary schemas are session-private noise.
 */
#define USER_SCHEMA \
	"n.nspname <> 'information_schema' AND n.nspname !~ '^pg_(catalog$|toast|temp_)'"
#define QUALIFIED(nsp, rel) "quote_ident(" nsp ".nspname) || '.' || quote_ident(" rel ".relname)"

struct catalog_query {
	const char *what; /* names the query in errors */
	const char *(*sql)(int server_version);
	int (*read)(struct model *m, PGresult *res, int server_version);
};

struct catalog_read {
	PGconn *conn;
	struct catalog_options opts;
	int server_version;
	struct model *model;
	enum { READ_SEND, READ_FLUSH, READ_RESULTS, READ_DONE, READ_FAILED } state;
	int attempts;
	int statements;
	bool rollback_first; /* a failed attempt left its transaction aborted */
	int n_sent;          /* statements in this attempt's pipeline */
	int next;            /* index of the statement whose results come next */
	const struct catalog_query *queries;
	int first_query;     /* index of the first catalog query in the pipeline */
	/* The first error of this attempt, kept until the pipeline is drained. */
	char sqlstate[6];
	char failed_msg[512];
	const char *failed_what;
	bool failed;
};

/* ---- small helpers for turning rows into model objects ---- */

static const char *val(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static bool val_bool(PGresult *res, int row, int col)
{
	const char *v = val(res, row, col);
	return v && v[0] == 't';
}

static long long val_int(PGresult *res, int row, int col)
{
	const char *v = val(res, row, col);
	return v ? strtoll(v, NULL, 10) : 0;
}

/*
 * Parses a one-dimensional text[] in PostgreSQL's output syntax
 * ({a,"b c","d\"e"}) in place; items point into s.  Returns the count,
 * or -EINVAL for anything else (including NULL elements).
 */
static int pgarray_parse(char *s, const char ***ret)
{
	size_t cap = 8, n = 0;
	const char **items;
	char *p = s, *w;

	if (*p++ != '{')
		return -EINVAL;
	items = malloc(cap * sizeof(*items));
	if (!items)
		return -ENOMEM;
	while (*p && *p != '}') {
		if (n == cap) {
			const char **q = realloc(items, (cap *= 2) * sizeof(*items));
			if (!q) {
				free(items);
				return -ENOMEM;
			}
			items = q;
		}
		items[n++] = w = p;
		if (*p == '"') {
			items[n - 1] = w = ++p;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				*w++ = *p++;
			}
			if (*p != '"') {
				free(items);
				return -EINVAL;
			}
			p++;
		} else {
			while (*p && *p != ',' && *p != '}')
				w++, p++;
			if (w - items[n - 1] == 4 && strncmp(items[n - 1], "NULL", 4) == 0) {
				free(items);
				return -EINVAL;
			}
		}
		char sep = *p;
		*w = '\0';
		if (sep == ',')
			p++;
		else if (sep != '}') {
			free(items);
			return -EINVAL;
		}
		if (sep == '}')
			break;
	}
	*ret = items;
	return (int)n;
}

static int set_text_array(struct model *m, const char *attr, const char *text)
{
	const char **items = NULL;
	char *copy;
	int n, r;

	if (!text)
		return 0;
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	n = pgarray_parse(copy, &items);
	if (n < 0) {
		free(copy);
		return n;
	}
	r = model_set_list(m, attr, items, (size_t)n);
	free(items);
	free(copy);
	return r;
}

/* ---- schemas ---- */

static const char *sql_schemas(int v)
{
	(void)v;
	return "SELECT n.nspname FROM pg_namespace n WHERE " USER_SCHEMA;
}

static int read_schemas(struct model *m, PGresult *res, int v)
{
	(void)v;
	for (int i = 0; i < PQntuples(res); i++) {
		model_begin(m, MODEL_SCHEMA, NULL, NULL, val(res, i, 0), NULL);
		int r = model_end(m);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- tables, views, materialized views ---- */

static const char *sql_relations(int v)
{
	(void)v;
	return "SELECT n.nspname, c.relname, c.relkind, c.relpersistence = 'u',"
	       " CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,"
	       " CASE WHEN c.relispartition THEN"
	       "  (SELECT " QUALIFIED("pn", "p") " FROM pg_inherits i"
	       "   JOIN pg_class p ON p.oid = i.inhparent"
	       "   JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) END,"
	       " CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,"
	       " CASE WHEN NOT c.relispartition THEN"
	       "  (SELECT array_agg(" QUALIFIED("pn", "p") " ORDER BY i.inhseqno) FROM pg_inherits i"
	       "   JOIN pg_class p ON p.oid = i.inhparent"
	       "   JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) END,"
	       " CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END"
	       " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	       " WHERE c.relkind IN ('r', 'p', 'v', 'm') AND " USER_SCHEMA;
}

static int read_relations(struct model *m, PGresult *res, int v)
{
	(void)v;
	for (int i = 0; i < PQntuples(res); i++) {
		char relkind = val(res, i, 2)[0];
		enum model_kind kind = relkind == 'v' ? MODEL_VIEW
				     : relkind == 'm' ? MODEL_MATERIALIZED_VIEW
						      : MODEL_TABLE;
		int r;

		model_begin(m, kind, val(res, i, 0), NULL, val(res, i, 1), NULL);
		if (kind == MODEL_TABLE) {
			model_set_bool(m, "unlogged", val_bool(res, i, 3));
			model_set_str(m, "partition_key", val(res, i, 4));
			model_set_str(m, "partition_of", val(res, i, 5));
			model_set_str(m, "partition_bound", val(res, i, 6));
			if ((r = set_text_array(m, "inherits", val(res, i, 7))) < 0) {
				model_end(m);
				return r;
			}
		} else {
			model_set_str(m, "definition", val(res, i, 8));
		}
		if ((r = model_end(m)) < 0)
			return r;
	}
	return 0;
}

/* ---- columns ---- */

static const char *sql_columns(int v)
{
	(void)v;
	/* Ordered so each table's live columns arrive together, by attnum:
	 * the position reported is the rank among live columns, so a dropped
	 * column's gap in attnum never shows. */
	return "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),"
	       " a.attnotnull,"
	       " CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,"
	       " a.attidentity,"
	       " CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,"
	       " CASE WHEN a.attcollation <> t.typcollation THEN"
	       "  quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END"
	       " FROM pg_attribute a"
	       " JOIN pg_class c ON c.oid = a.attrelid"
	       " JOIN pg_namespace n ON n.oid = c.relnamespace"
	       " JOIN pg_type t ON t.oid = a.atttypid"
	       " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
	       " LEFT JOIN pg_collation co ON co.oid = a.attcollation"
	       " LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace"
	       " WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')"
	       " AND " USER_SCHEMA " ORDER BY a.attrelid, a.attnum";
}

static int read_columns(struct model *m, PGresult *res, int v)
{
	const char *prev_schema = NULL, *prev_table = NULL;
	long long position = 0;

	(void)v;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *schema = val(res, i, 0), *table = val(res, i, 1);
		const char *identity = val(res, i, 6);
		int r;

		if (!prev_table || strcmp(prev_table, table) != 0 || strcmp(prev_schema, schema) != 0)
			position = 0;
		prev_schema = schema;
		prev_table = table;
		model_begin(m, MODEL_COLUMN, schema, table, val(res, i, 2), NULL);
		model_set_int(m, "position", ++position);
		model_set_str(m, "type", val(res, i, 3));
		model_set_bool(m, "not_null", val_bool(res, i, 4));
		model_set_str(m, "default", val(res, i, 5));
		if (identity && identity[0])
			model_set_str(m, "identity", identity[0] == 'a' ? "always" : "by default");
		model_set_str(m, "generated", val(res, i, 7));
		model_set_str(m, "collation", val(res, i, 8));
		if ((r = model_end(m)) < 0)
			return r;
	}
	return 0;
}

/* ---- constraints ---- */

static const char *sql_constraints(int v)
{
	/* PostgreSQL 18 stores NOT NULL as constraints (contype 'n'); columns
	 * already report not_null, so only these five types are read. */
	if (v >= 180000)
		return "SELECT n.nspname, c.relname, k.conname, k.contype,"
		       " pg_get_constraintdef(k.oid), k.condeferrable, k.condeferred, k.convalidated,"
		       " CASE WHEN k.contype = 'f' THEN " QUALIFIED("fn", "fc") " END,"
		       " k.confupdtype, k.confdeltype, k.confmatchtype, k.conenforced"
		       " FROM pg_constraint k"
		       " JOIN pg_class c ON c.oid = k.conrelid"
		       " JOIN pg_namespace n ON n.oid = c.relnamespace"
		       " LEFT JOIN pg_class fc ON fc.oid = k.confrelid"
		       " LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace"
		       " WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND " USER_SCHEMA;
	return "SELECT n.nspname, c.relname, k.conname, k.contype,"
	       " pg_get_constraintdef(k.oid), k.condeferrable, k.condeferred, k.convalidated,"
	       " CASE WHEN k.contype = 'f' THEN " QUALIFIED("fn", "fc") " END,"
	       " k.confupdtype, k.confdeltype, k.confmatchtype, true"
	       " FROM pg_constraint k"
	       " JOIN pg_class c ON c.oid = k.conrelid"
	       " JOIN pg_namespace n ON n.oid = c.relnamespace"
	       " LEFT JOIN pg_class fc ON fc.oid = k.confrelid"
	       " LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace"
	       " WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND " USER_SCHEMA;
}

static const char *fk_action(const char *code)
{
	switch (code ? code[0] : 0) {
	case 'a': return "no action";
	case 'r': return "restrict";
	case 'c': return "cascade";
	case 'n': return "set null";
	case 'd': return "set default";
	}
	return NULL;
}

static const char *fk_match(const char *code)
{
	switch (code ? code[0] : 0) {
	case 's': return "simple";
	case 'f': return "full";
	case 'p': return "partial";
	}
	return NULL;
}

static int read_constraints(struct model *m, PGresult *res, int v)
{
	for (int i = 0; i < PQntuples(res); i++) {
		char type = val(res, i, 3)[0];
		int r;

		model_begin(m, MODEL_CONSTRAINT, val(res, i, 0), val(res, i, 1), val(res, i, 2), NULL);
		model_set_str(m, "type", type == 'p' ? "primary key" : type == 'u' ? "unique"
					 : type == 'f' ? "foreign key" : type == 'c' ? "check"
					 : "exclusion");
		model_set_str(m, "definition", val(res, i, 4));
		model_set_bool(m, "deferrable", val_bool(res, i, 5));
		model_set_bool(m, "deferred", val_bool(res, i, 6));
		model_set_bool(m, "validated", val_bool(res, i, 7));
		if (type == 'f') {
			model_set_str(m, "references", val(res, i, 8));
			model_set_str(m, "on_update", fk_action(val(res, i, 9)));
			model_set_str(m, "on_delete", fk_action(val(res, i, 10)));
			model_set_str(m, "match", fk_match(val(res, i, 11)));
		}
		/* NOT ENFORCED exists from 18 on; before, every constraint is enforced
		 * and the attribute is left out so older snapshots compare equal. */
		if (v >= 180000 && !val_bool(res, i, 12))
			model_set_bool(m, "enforced", false);
		if ((r = model_end(m)) < 0)
			return r;
	}
	return 0;
}

/* ---- indexes ---- */

static const char *sql_indexes(int v)
{
	(void)v;
	return "SELECT n.nspname, t.relname, c.relname, pg_get_indexdef(i.indexrelid),"
	       " am.amname, i.indisunique, pg_get_expr(i.indpred, i.indrelid), i.indisvalid"
	       " FROM pg_index i"
	       " JOIN pg_class c ON c.oid = i.indexrelid"
	       " JOIN pg_class t ON t.oid = i.indrelid"
	       " JOIN pg_namespace n ON n.oid = c.relnamespace"
	       " JOIN pg_am am ON am.oid = c.relam"
	       " WHERE t.relkind IN ('r', 'p', 'm') AND " USER_SCHEMA;
}

static int read_indexes(struct model *m, PGresult *res, int v)
{
	(void)v;
	for (int i = 0; i < PQntuples(res); i++) {
		int r;

		model_begin(m, MODEL_INDEX, val(res, i, 0), val(res, i, 1), val(res, i, 2), NULL);
		model_set_str(m, "definition", val(res, i, 3));
		model_set_str(m, "method", val(res, i, 4));
		model_set_bool(m, "unique", val_bool(res, i, 5));
		model_set_str(m, "predicate", val(res, i, 6));
		model_set_bool(m, "valid", val_bool(res, i, 7));
		if ((r = model_end(m)) < 0)
			return r;
	}
	return 0;
}

/* ---- sequences ---- */

static const char *sql_sequences(int v)
{
	(void)v;
	/* Parameters only: the current value is data, not schema, and reading
	 * it would need privileges a monitoring role should not have. */
	return "SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart,"
	       " s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,"
	       " (SELECT " QUALIFIED("tn", "t") " || '.' || quote_ident(a.attname)"
	       "  FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid"
	       "  JOIN pg_namespace tn ON tn.oid = t.relnamespace"
	       "  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
	       "  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid"
	       "  AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0"
	       "  AND d.deptype IN ('a', 'i') LIMIT 1)"
	       " FROM pg_sequence s"
	       " JOIN pg_class c ON c.oid = s.seqrelid"
	       " JOIN pg_namespace n ON n.oid = c.relnamespace"
	       " WHERE " USER_SCHEMA;
}

static int read_sequences(struct model *m, PGresult *res, int v)
{
	(void)v;
	for (int i = 0; i < PQntuples(res); i++) {
		int r;

		model_begin(m, MODEL_SEQUENCE, val(res, i, 0), NULL, val(res, i, 1), NULL);
		model_set_str(m, "type", val(res, i, 2));
		model_set_int(m, "start", val_int(res, i, 3));
		model_set_int(m, "increment", val_int(res, i, 4));
		model_set_int(m, "min", val_int(res, i, 5));
		model_set_int(m, "max", val_int(res, i, 6));
		model_set_int(m, "cache", val_int(res, i, 7));
		model_set_bool(m, "cycle", val_bool(res, i, 8));
		model_set_str(m, "owned_by", val(res, i, 9));
		if ((r = model_end(m)) < 0)
			return r;
	}
	return 0;
}

/*
 * The catalog queries, in pipeline order.  Order does not matter for
 * correctness (one snapshot sees one catalog state); the big ones come
 * last so that small results are processed while the server still works.
 */
static const struct catalog_query queries[] = {
	{ "schemas", sql_schemas, read_schemas },
	{ "sequences", sql_sequences, read_sequences },
	{ "relations", sql_relations, read_relations },
	{ "constraints", sql_constraints, read_constraints },
	{ "indexes", sql_indexes, read_indexes },
	{ "columns", sql_columns, read_columns },
};
#define N_QUERIES ((int)(sizeof(queries) / sizeof(queries[0])))

const char *catalog_query_text(int server_version, int i)
{
	if (i < 0 || i >= N_QUERIES)
		return NULL;
	return queries[i].sql(server_version);
}

/* ---- the state machine ---- */

int catalog_read_new(PGconn *conn, const struct catalog_options *opts,
		     struct catalog_read **ret)
{
	struct catalog_read *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->conn = conn;
	if (opts)
		r->opts = *opts;
	if (r->opts.lock_timeout_ms <= 0)
		r->opts.lock_timeout_ms = 1000;
	if (r->opts.statement_timeout_ms <= 0)
		r->opts.statement_timeout_ms = 60000;
	if (r->opts.max_attempts <= 0)
		r->opts.max_attempts = 4;
	r->server_version = PQserverVersion(conn);
	r->queries = queries;
	r->state = READ_SEND;
	*ret = r;
	return 0;
}

void catalog_read_free(struct catalog_read *r)
{
	if (!r)
		return;
	model_free(r->model);
	free(r);
}

struct model *catalog_read_take_model(struct catalog_read *r)
{
	struct model *m = r->state == READ_DONE ? r->model : NULL;

	if (m)
		r->model = NULL;
	return m;
}

int catalog_read_attempts(const struct catalog_read *r)
{
	return r->attempts;
}

int catalog_read_statements(const struct catalog_read *r)
{
	return r->statements;
}

static int conn_fail(struct catalog_read *r, struct error *err, const char *what)
{
	char msg[512];
	const char *e = PQerrorMessage(r->conn);
	size_t n;

	snprintf(msg, sizeof(msg), "%s", e && *e ? e : "connection lost");
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	r->state = READ_FAILED;
	return error_set(err, -EIO, "%s: %s", what, msg);
}

static int send_one(struct catalog_read *r, const char *sql)
{
	if (!PQsendQueryParams(r->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
		return -1;
	r->n_sent++;
	r->statements++;
	return 0;
}

static int send_pipeline(struct catalog_read *r, struct error *err)
{
	char settings[256];

	model_free(r->model);
	r->model = NULL;
	if (model_new(&r->model) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	r->attempts++;
	r->n_sent = 0;
	r->next = 0;
	r->failed = false;
	r->failed_what = NULL;

	if (PQsetnonblocking(r->conn, 1) != 0 || !PQenterPipelineMode(r->conn))
		return conn_fail(r, err, "cannot start pipeline");

	/* search_path is pinned empty so every name pg_get_*def prints is
	 * schema-qualified, whatever the role's own settings say. */
	snprintf(settings, sizeof(settings),
		 "SELECT set_config('search_path', '', true),"
		 " set_config('lock_timeout', '%d', true),"
		 " set_config('statement_timeout', '%d', true)",
		 r->opts.lock_timeout_ms, r->opts.statement_timeout_ms);
	if ((r->rollback_first && send_one(r, "ROLLBACK") < 0) ||
	    send_one(r, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") < 0 ||
	    send_one(r, settings) < 0)
		return conn_fail(r, err, "cannot send catalog queries");
	r->first_query = r->n_sent;
	for (int i = 0; i < N_QUERIES; i++)
		if (send_one(r, queries[i].sql(r->server_version)) < 0)
			return conn_fail(r, err, "cannot send catalog queries");
	if (send_one(r, "COMMIT") < 0 || !PQpipelineSync(r->conn))
		return conn_fail(r, err, "cannot send catalog queries");
	r->rollback_first = false;
	r->state = READ_FLUSH;
	return 0;
}

/*
 * Errors that concurrent DDL can cause: pg_get_*def() read the latest
 * catalog, not our snapshot, so an object dropped meanwhile gives "cache
 * lookup failed" (XX000) or an undefined-object error.  Worth a retry.
 */
static bool retryable(const char *sqlstate)
{
	static const char *const states[] = { "XX000", "42P01", "42704", "42883", "3F000",
					      "40001", "55P03", NULL };
	for (int i = 0; states[i]; i++)
		if (strcmp(sqlstate, states[i]) == 0)
			return true;
	return false;
}

static void note_failure(struct catalog_read *r, PGresult *res, const char *what)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (r->failed)
		return;
	r->failed = true;
	r->failed_what = what;
	snprintf(r->sqlstate, sizeof(r->sqlstate), "%s", state ? state : "");
	snprintf(r->failed_msg, sizeof(r->failed_msg), "%s",
		 msg ? msg : PQresultErrorMessage(res));
}

/* One result of the pipeline; statement index r->next. */
static int handle_result(struct catalog_read *r, PGresult *res, struct error *err)
{
	ExecStatusType st = PQresultStatus(res);
	int idx = r->next - r->first_query;
	const char *what = idx >= 0 && idx < N_QUERIES ? queries[idx].what : "transaction setup";

	switch (st) {
	case PGRES_TUPLES_OK:
		if (idx >= 0 && idx < N_QUERIES && !r->failed) {
			int e = queries[idx].read(r->model, res, r->server_version);
			if (e < 0) {
				r->failed = true;
				r->failed_what = queries[idx].what;
				r->sqlstate[0] = '\0';
				snprintf(r->failed_msg, sizeof(r->failed_msg),
					 "cannot build the model: %s", strerror(-e));
			}
		}
		return 0;
	case PGRES_COMMAND_OK:
	case PGRES_PIPELINE_ABORTED:
		return 0;
	case PGRES_FATAL_ERROR:
	case PGRES_NONFATAL_ERROR:
		note_failure(r, res, what);
		return 0;
	default:
		r->state = READ_FAILED;
		return error_set(err, -EPROTO, "catalog query %s: unexpected result %s", what,
				 PQresStatus(st));
	}
}

/* The pipeline is drained: finish, retry, or fail. */
static int attempt_done(struct catalog_read *r, struct error *err)
{
	int e;

	if (!PQexitPipelineMode(r->conn))
		return conn_fail(r, err, "cannot leave pipeline mode");
	if (!r->failed) {
		if ((e = model_finish(r->model)) < 0) {
			r->state = READ_FAILED;
			return error_set(err, e, "catalog returned duplicate objects");
		}
		r->state = READ_DONE;
		return CATALOG_DONE;
	}
	if (r->sqlstate[0] && retryable(r->sqlstate) && r->attempts < r->opts.max_attempts) {
		/* BEGIN succeeded, so the failed transaction is still open. */
		r->rollback_first = true;
		r->state = READ_SEND;
		return 1; /* caller loops */
	}
	r->state = READ_FAILED;
	return error_set(err, r->sqlstate[0] ? -EIO : -ENOMEM,
			 "catalog query %s failed after %d attempt%s: %s%s%s%s", r->failed_what,
			 r->attempts, r->attempts == 1 ? "" : "s", r->failed_msg,
			 r->sqlstate[0] ? " (SQLSTATE " : "", r->sqlstate,
			 r->sqlstate[0] ? ")" : "");
}

int catalog_read_step(struct catalog_read *r, struct error *err)
{
	for (;;) {
		int e;

		switch (r->state) {
		case READ_SEND:
			if ((e = send_pipeline(r, err)) < 0)
				return e;
			break;
		case READ_FLUSH:
			e = PQflush(r->conn);
			if (e < 0)
				return conn_fail(r, err, "cannot send catalog queries");
			if (e > 0) {
				/* Read too: the server may block on its output until we do. */
				if (!PQconsumeInput(r->conn))
					return conn_fail(r, err, "connection lost");
				return CATALOG_WANT_READ | CATALOG_WANT_WRITE;
			}
			r->state = READ_RESULTS;
			break;
		case READ_RESULTS:
			if (!PQconsumeInput(r->conn))
				return conn_fail(r, err, "connection lost");
			while (!PQisBusy(r->conn)) {
				PGresult *res = PQgetResult(r->conn);
				if (!res) {
					/* End of one statement's results. */
					r->next++;
					continue;
				}
				if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
					PQclear(res);
					e = attempt_done(r, err);
					if (e <= 0)
						return e;
					goto next_state;
				}
				e = handle_result(r, res, err);
				PQclear(res);
				if (e < 0)
					return e;
			}
			return CATALOG_WANT_READ;
		case READ_DONE:
			return CATALOG_DONE;
		case READ_FAILED:
			return error_set(err, -EINVAL, "catalog read already failed");
		}
next_state:;
	}
}
