/* Catalog reader: pipelined set-based pg_catalog queries in one read-only transaction. */
#include "catalog.h"
#include "catalog_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Every query excludes system schemas with the same predicate on the
 * namespace alias `n`.  Temporary schemas are session-private noise.
 */
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
	struct catalog_ctx ctx;
	int stmt_query[32];  /* per statement of the pipeline: its query's index, or STMT_* */
	/* The pipeline's end (the recorder's rows, COMMIT, Sync) waits for the
	 * setup statement's answer: it says whether there is a recorder. */
	bool tail_pending, send_tail;
	char *recorder_sql;
	/* The first error of this attempt, kept until the pipeline is drained. */
	char sqlstate[6];
	char failed_msg[512];
	const char *failed_what;
	bool failed;
};

/* What a statement of the pipeline is when it is not one of queries[]. */
enum { STMT_SETUP = -1, STMT_SETTINGS = -2, STMT_RECORDER = -3 };

/* ---- helpers shared by the query families ---- */

int catalog_find_columns(PGresult *res, const struct catalog_column *cols, size_t n, void *ret)
{
	for (size_t i = 0; i < n; i++) {
		int col = PQfnumber(res, cols[i].name);

		if (col < 0)
			return -EPROTO;
		memcpy((char *)ret + cols[i].offset, &col, sizeof(col));
	}
	return 0;
}

const char *catalog_val(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

bool catalog_val_bool(PGresult *res, int row, int col)
{
	const char *v = catalog_val(res, row, col);
	return v && v[0] == 't';
}

long long catalog_val_int(PGresult *res, int row, int col)
{
	const char *v = catalog_val(res, row, col);
	return v ? strtoll(v, NULL, 10) : 0;
}

/*
 * Parses a one-dimensional array in PostgreSQL's text output syntax
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

static int item_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int catalog_set_array(struct model *m, const char *attr, const char *text, bool as_set)
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
	/* Bytewise, never the database's collation: the same set sorts the same
	 * on every server. */
	if (as_set && n > 1)
		qsort(items, (size_t)n, sizeof(*items), item_cmp);
	r = model_set_list(m, attr, items, (size_t)n);
	free(items);
	free(copy);
	return r;
}

const char *catalog_enabled(const char *code)
{
	if (!code)
		return NULL;
	switch (code[0]) {
	case 'O': return "origin";
	case 'D': return "disabled";
	case 'R': return "replica";
	}
	return "always";
}

int catalog_end(struct model *m, int r)
{
	int e = model_end(m);

	return r < 0 ? r : e;
}

/*
 * The catalog queries, in pipeline order.  Order does not matter for
 * correctness (one snapshot sees one catalog state).  The biggest result,
 * columns, comes first: it is converted and freed while the model is still
 * empty, which keeps the peak memory of a large snapshot down.
 */
static const struct catalog_query *const queries[] = {
	&catalog_columns, &catalog_indexes, &catalog_constraints, &catalog_relations,
	&catalog_extensions, &catalog_schemas, &catalog_misc, &catalog_types,
	&catalog_routines, &catalog_sequences, &catalog_policies, &catalog_rules,
	&catalog_triggers,
	/* Last, in the same transaction: the fingerprint of exactly what was read. */
	&catalog_probe,
};
#define N_QUERIES ((int)(sizeof(queries) / sizeof(queries[0])))

const char *catalog_query_text(int server_version, int i)
{
	if (i < 0 || i >= N_QUERIES)
		return NULL;
	return queries[i]->sql(server_version);
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
	r->ctx.version = r->server_version;
	r->ctx.partitions_full = r->opts.partitions_full;
	r->state = READ_SEND;
	*ret = r;
	return 0;
}

void catalog_read_free(struct catalog_read *r)
{
	if (!r)
		return;
	model_free(r->model);
	free(r->recorder_sql);
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

static int send_one(struct catalog_read *r, const char *sql, int query)
{
	if (r->n_sent >= (int)(sizeof(r->stmt_query) / sizeof(r->stmt_query[0])) ||
	    !PQsendQueryParams(r->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
		return -1;
	r->stmt_query[r->n_sent] = query;
	r->n_sent++;
	r->statements++;
	return 0;
}

static int send_pipeline(struct catalog_read *r, struct error *err)
{
	char settings[2048];

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
	/* Names come to us as UTF-8, converted by the server, except from a
	 * SQL_ASCII database: there bytes are bytes (the server refuses to
	 * convert them), and the snapshot keeps them exactly (hex when not UTF-8). */
	const char *enc = PQparameterStatus(r->conn, "server_encoding");
	snprintf(settings, sizeof(settings),
		 "SELECT set_config('search_path', '', true),"
		 " set_config('lock_timeout', '%d', true),"
		 " set_config('statement_timeout', '%d', true),"
		 " set_config('client_encoding', '%s', true),"
		 /* The catalog queries look expensive to the planner, which then
		  * spends most of a second compiling them (JIT) to return a
		  * handful of rows. */
		 " set_config('jit', 'off', true)%s",
		 r->opts.lock_timeout_ms, r->opts.statement_timeout_ms,
		 enc && strcmp(enc, "SQL_ASCII") == 0 ? "SQL_ASCII" : "UTF8",
		 r->opts.probe_only ? "" : catalog_recorder_detect);
	if ((r->rollback_first && send_one(r, "ROLLBACK", STMT_SETUP) < 0) ||
	    send_one(r, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", STMT_SETUP) < 0 ||
	    send_one(r, settings, STMT_SETTINGS) < 0)
		return conn_fail(r, err, "cannot send catalog queries");
	/* The probe is last: with probe_only it is all there is. */
	for (int i = r->opts.probe_only ? N_QUERIES - 1 : 0; i < N_QUERIES; i++)
		if (send_one(r, queries[i]->sql(r->server_version), i) < 0)
			return conn_fail(r, err, "cannot send catalog queries");
	r->rollback_first = false;
	r->state = READ_FLUSH;
	if (r->opts.probe_only) {
		if (send_one(r, "COMMIT", STMT_SETUP) < 0 || !PQpipelineSync(r->conn))
			return conn_fail(r, err, "cannot send catalog queries");
		return 0;
	}
	/* The server sends the setup statement's answer now, while it works on
	 * the catalog queries: the tail goes out a round trip later, hidden
	 * behind them. */
	if (!PQsendFlushRequest(r->conn))
		return conn_fail(r, err, "cannot send catalog queries");
	r->tail_pending = true;
	return 0;
}

/* The end of the pipeline: the recorder's rows when there is a recorder
 * this role may read (one statement more, never more), COMMIT, Sync. */
static int send_tail(struct catalog_read *r, struct error *err)
{
	const struct model_recorder *rec = r->model->recorder;

	r->tail_pending = r->send_tail = false;
	free(r->recorder_sql);
	r->recorder_sql = NULL;
	if (rec && rec->readable && !r->failed) {
		if (catalog_recorder_sql(r->conn, rec->schema, r->opts.recorder_since,
					 &r->recorder_sql) < 0)
			return error_set(err, -ENOMEM, "out of memory");
		if (send_one(r, r->recorder_sql, STMT_RECORDER) < 0)
			return conn_fail(r, err, "cannot send catalog queries");
	}
	if (send_one(r, "COMMIT", STMT_SETUP) < 0 || !PQpipelineSync(r->conn))
		return conn_fail(r, err, "cannot send catalog queries");
	r->state = READ_FLUSH;
	return 0;
}

/* The setup statement's answer: is there a recorder, may we read it? */
static int read_settings(struct catalog_read *r, PGresult *res)
{
	int cs = PQfnumber(res, "recorder_schema"), cr = PQfnumber(res, "recorder_readable");
	const char *schema;

	if (r->opts.probe_only)
		return 0; /* the probe reads no recorder */
	if (cs < 0 || cr < 0 || PQntuples(res) != 1)
		return -EPROTO;
	schema = catalog_val(res, 0, cs);
	if (!schema)
		return 0;
	return catalog_recorder_found(r->model, schema, catalog_val_bool(res, 0, cr));
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
	int idx = r->next < r->n_sent ? r->stmt_query[r->next] : STMT_SETUP;
	const char *what = idx >= 0 ? queries[idx]->what
			 : idx == STMT_RECORDER ? "recorder rows" : "transaction setup";

	if (idx == STMT_SETTINGS && r->tail_pending)
		r->send_tail = true; /* whatever the answer: the pipeline must end */
	switch (st) {
	case PGRES_TUPLES_OK:
		if (idx != STMT_SETUP && !r->failed) {
			int e = idx >= 0 ? queries[idx]->read(r->model, res, &r->ctx)
			      : idx == STMT_SETTINGS ? read_settings(r, res)
			      : catalog_recorder_read(r->model, res);
			if (e < 0) {
				r->failed = true;
				r->failed_what = what;
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
		/* The recorder's rows are last but COMMIT: everything else is in,
		 * and an opt-in extra never costs the snapshot.  The recorder
		 * reports itself unreadable instead. */
		if (idx == STMT_RECORDER && r->model->recorder) {
			r->model->recorder->readable = false;
			return 0;
		}
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
		if ((e = catalog_recorder_exclude(r->model)) < 0 ||
		    (e = model_finish(r->model)) < 0) {
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
				if (r->send_tail) {
					if ((e = send_tail(r, err)) < 0)
						return e;
					goto next_state;
				}
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
