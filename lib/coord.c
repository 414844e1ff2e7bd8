/* Coordination through PostgreSQL: the schema migration, heartbeats, leases and shared state. */
#include "coord.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <openssl/evp.h>

#include "fileio.h"
#include "ini.h"
#include "isotime.h"
#include "live.h"
#include "strbuf.h"

struct coord {
	char *dsn, *password, *node;
	int connect_timeout_ms;
	int64_t lease_timeout_ms;
	PGconn *conn;
	bool migrated;
	char where[512]; /* host, port, dbname as the DSN says, for messages */
	unsigned queries;
};

int coord_new(const struct coord_options *o, struct coord **ret)
{
	struct coord *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->dsn = strdup(o->dsn);
	c->password = o->password ? strdup(o->password) : NULL;
	c->node = strdup(o->node);
	c->connect_timeout_ms = o->connect_timeout_ms;
	c->lease_timeout_ms = o->lease_timeout_ms;
	if (!c->dsn || !c->node || (o->password && !c->password)) {
		coord_free(c);
		return -ENOMEM;
	}
	live_describe_dsn(c->dsn, c->where, sizeof(c->where));
	*ret = c;
	return 0;
}

void coord_free(struct coord *c)
{
	if (!c)
		return;
	if (c->conn)
		PQfinish(c->conn);
	free(c->dsn);
	ini_secret_free(c->password);
	free(c->node);
	free(c);
}

void coord_target_state_done(struct coord_target_state *s)
{
	free(s->alert_state);
	free(s->baseline_hash);
	free(s->baseline);
	free(s->node);
	memset(s, 0, sizeof(*s));
}

void coord_round_out_done(struct coord_round_out *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (o->holder)
			free(o->holder[i]);
		if (o->owner)
			free(o->owner[i]);
		if (o->state)
			coord_target_state_done(&o->state[i]);
	}
	free(o->held);
	free(o->holder);
	free(o->owner);
	free(o->state);
	for (size_t i = 0; o->unpublished && i < o->n_unpublished; i++)
		free(o->unpublished[i]);
	free(o->unpublished);
	memset(o, 0, sizeof(*o));
}

/* The first 8 bytes of SHA-256(node NUL target): node names that differ in one
 * character (n1, n2, n3) must still win independent shares of the targets. */
static uint64_t weight(const char *node, const char *target)
{
	size_t ln = strlen(node), lt = strlen(target);
	unsigned char md[EVP_MAX_MD_SIZE], stack[256], *buf = stack;
	unsigned int mdlen = 0;
	uint64_t w = 0;

	if (ln + lt + 1 > sizeof(stack) && !(buf = malloc(ln + lt + 1)))
		return 0;
	memcpy(buf, node, ln);
	buf[ln] = 0;
	memcpy(buf + ln + 1, target, lt);
	if (EVP_Digest(buf, ln + lt + 1, md, &mdlen, EVP_sha256(), NULL))
		for (int i = 0; i < 8; i++)
			w = w << 8 | md[i];
	if (buf != stack)
		free(buf);
	return w;
}

long coord_rendezvous(char *const *nodes, size_t n, const char *target)
{
	long best = -1;
	uint64_t best_w = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t w = weight(nodes[i], target);
		/* Ties (never in practice) go to the smaller name: the same everywhere. */
		if (best < 0 || w > best_w || (w == best_w && strcmp(nodes[i], nodes[best]) < 0)) {
			best = (long)i;
			best_w = w;
		}
	}
	return best;
}

/* libpq's message for the last failure, one line, redacted and escaped. */
static int pq_error(struct coord *c, const char *what, const PGresult *res, struct error *err)
{
	char msg[600];

	snprintf(msg, sizeof(msg), "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(c->conn));
	if (!msg[0] && c->conn)
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c->conn));
	msg[strcspn(msg, "\n")] = '\0';
	live_redact(c->dsn, c->password, msg, sizeof(msg));
	return error_set(err, -EIO, "coordination %s: %s: %s", c->where, what, msg);
}

/* Waits until the socket is ready for events or the deadline (monotonic ms) passes. */
static int wait_socket(struct coord *c, short events, int64_t deadline)
{
	struct pollfd p = { .fd = PQsocket(c->conn), .events = events };
	int64_t left = deadline - isotime_mono_ms();
	int n;

	if (p.fd < 0)
		return -EBADF;
	if (left <= 0)
		return -ETIMEDOUT;
	do
		n = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n == 0 ? -ETIMEDOUT : 0;
}

/*
 * PQexecParams with a deadline of our own: a server that stopped answering
 * (hung, or behind a link that drops everything but keepalives) must not hold
 * the worker for longer than a lease, or this daemon would never come back.
 * The server's statement_timeout, shorter, normally answers first.
 */
static PGresult *exec_bounded(struct coord *c, const char *sql, int n, const char *const *vals,
			      const int *lens, const int *formats, bool *ret_timed_out)
{
	int64_t deadline = isotime_mono_ms() + c->lease_timeout_ms / 2 + 1000;
	PGresult *res, *last = NULL;
	int f;

	*ret_timed_out = false;
	if (!PQsendQueryParams(c->conn, sql, n, NULL, vals, lens, formats, 0))
		return NULL;
	while ((f = PQflush(c->conn)) == 1)
		if (wait_socket(c, POLLOUT | POLLIN, deadline) < 0 || !PQconsumeInput(c->conn))
			goto fail;
	if (f < 0)
		goto fail;
	for (;;) {
		while (PQisBusy(c->conn))
			if (wait_socket(c, POLLIN, deadline) < 0 || !PQconsumeInput(c->conn))
				goto fail;
		if (!(res = PQgetResult(c->conn)))
			break;
		PQclear(last);
		last = res;
	}
	return last;
fail:
	*ret_timed_out = isotime_mono_ms() >= deadline;
	PQclear(last);
	return NULL;
}

/* Runs sql with parameters (text unless formats says otherwise); want is the status
 * expected.  *ret (may be NULL) gets the result to PQclear. */
static int run_params(struct coord *c, const char *what, const char *sql, int n,
		      const char *const *vals, const int *lens, const int *formats,
		      ExecStatusType want, PGresult **ret, struct error *err)
{
	bool timed_out;
	PGresult *res = exec_bounded(c, sql, n, vals, lens, formats, &timed_out);
	int r = 0;

	c->queries++;
	if (timed_out)
		r = error_set(err, -ETIMEDOUT, "coordination %s: %s: no answer within %lld ms",
			      c->where, what, (long long)(c->lease_timeout_ms / 2 + 1000));
	else if (!res || PQresultStatus(res) != want)
		r = pq_error(c, what, res, err);
	if (r == 0 && ret)
		*ret = res;
	else
		PQclear(res);
	return r;
}

static int run(struct coord *c, const char *what, const char *sql, int n, const char *const *vals,
	       ExecStatusType want, PGresult **ret, struct error *err)
{
	return run_params(c, what, sql, n, vals, NULL, NULL, want, ret, err);
}

/* The server's notices ("schema ... already exists, skipping") are nobody's business:
 * libpq's default prints them on stderr, and library code never prints. */
static void no_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int connect_db(struct coord *c, struct error *err)
{
	char timeout[32], user_timeout[32];
	const char *const keys[] = { "dbname", "application_name", "client_encoding", "keepalives",
				     "keepalives_idle", "keepalives_interval", "keepalives_count",
				     "tcp_user_timeout", "connect_timeout",
				     c->password ? "password" : NULL, NULL };
	const char *vals[] = { c->dsn, "schemadriftd-coordination", "UTF8", "1", "5", "2", "3",
			       user_timeout, timeout, c->password, NULL };
	char sql[128];

	/* libpq's connect_timeout is whole seconds.  A round that hangs on a
	 * dead peer holds the worker, not the loop, and the loop lets its leases
	 * lapse meanwhile; tcp_user_timeout bounds how long. */
	snprintf(timeout, sizeof(timeout), "%d",
		 c->connect_timeout_ms > 0 ? (c->connect_timeout_ms + 999) / 1000 : 10);
	snprintf(user_timeout, sizeof(user_timeout), "%lld", (long long)c->lease_timeout_ms / 2);
	c->conn = PQconnectdbParams(keys, vals, 1);
	if (!c->conn)
		return error_set(err, -ENOMEM, "out of memory");
	if (PQstatus(c->conn) != CONNECTION_OK) {
		int r = pq_error(c, "cannot connect", NULL, err);
		PQfinish(c->conn);
		c->conn = NULL;
		return r;
	}
	PQsetNoticeProcessor(c->conn, no_notices, NULL);
	/* Statements are sent and read with our own deadline (exec_bounded). */
	if (PQsetnonblocking(c->conn, 1) != 0)
		return pq_error(c, "non-blocking mode", NULL, err);
	/* Each statement is short; one stuck behind a lock must not outlive a lease. */
	snprintf(sql, sizeof(sql), "SET statement_timeout = %lld",
		 (long long)(c->lease_timeout_ms / 2));
	return run(c, "set statement_timeout", sql, 0, NULL, PGRES_COMMAND_OK, NULL, err);
}

/* The first version's tables; each later version adds its own list. */
static const char *const migration_1[] = {
	"CREATE TABLE " COORD_SCHEMA ".nodes (node text PRIMARY KEY,"
	" heartbeat timestamptz NOT NULL, started timestamptz NOT NULL DEFAULT now())",
	"CREATE TABLE " COORD_SCHEMA ".leases (target text PRIMARY KEY, node text NOT NULL,"
	" expires timestamptz NOT NULL, acquired timestamptz NOT NULL,"
	" takeovers bigint NOT NULL DEFAULT 0)",
	"CREATE TABLE " COORD_SCHEMA ".target_state (target text PRIMARY KEY, alert_state text,"
	" baseline_hash text, baseline bytea, node text NOT NULL,"
	" updated timestamptz NOT NULL DEFAULT now())",
	NULL,
};

/* The schema's version, 0 without one; nothing created (no privilege needed but USAGE). */
static int schema_version(struct coord *c, int *ret, struct error *err)
{
	PGresult *res = NULL;
	bool exists;
	int r;

	if ((r = run(c, "migration", "SELECT to_regclass('" COORD_SCHEMA ".version') IS NOT NULL",
		     0, NULL, PGRES_TUPLES_OK, &res, err)) < 0)
		return r;
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!exists) {
		*ret = 0;
		return 0;
	}
	if ((r = run(c, "migration", "SELECT coalesce(max(version), 0) FROM " COORD_SCHEMA ".version",
		     0, NULL, PGRES_TUPLES_OK, &res, err)) < 0)
		return r;
	*ret = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

static int migrate(struct coord *c, bool *ret_applied, struct error *err)
{
	PGresult *res = NULL;
	int version, r;

	/* Up to date: no DDL at all.  PostgreSQL checks the database's CREATE
	 * privilege before CREATE SCHEMA IF NOT EXISTS looks, so a role whose
	 * CREATE was revoked after the first start would fail every round. */
	if ((r = schema_version(c, &version, err)) < 0)
		return r;
	if (version == COORD_SCHEMA_VERSION) {
		*ret_applied = false;
		return 0;
	}
	/* Daemons that start together take turns: the lock is held to COMMIT. */
	if ((r = run(c, "migration", "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err)) < 0 ||
	    (r = run(c, "migration", "SELECT pg_advisory_xact_lock(hashtext('" COORD_SCHEMA "'))",
		     0, NULL, PGRES_TUPLES_OK, NULL, err)) < 0 ||
	    (r = run(c, "migration", "CREATE SCHEMA IF NOT EXISTS " COORD_SCHEMA, 0, NULL,
		     PGRES_COMMAND_OK, NULL, err)) < 0 ||
	    (r = run(c, "migration",
		     "CREATE TABLE IF NOT EXISTS " COORD_SCHEMA ".version"
		     " (version integer NOT NULL)",
		     0, NULL, PGRES_COMMAND_OK, NULL, err)) < 0 ||
	    (r = run(c, "migration",
		     "SELECT coalesce(max(version), 0) FROM " COORD_SCHEMA ".version", 0, NULL,
		     PGRES_TUPLES_OK, &res, err)) < 0)
		goto fail;
	version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (version > COORD_SCHEMA_VERSION) {
		r = error_set(err, -EPROTO,
			      "coordination %s: the schema " COORD_SCHEMA " is at version %d, "
			      "newer than this daemon's %d: upgrade this daemon", c->where, version,
			      COORD_SCHEMA_VERSION);
		goto fail;
	}
	*ret_applied = version < COORD_SCHEMA_VERSION;
	for (size_t i = 0; version < 1 && migration_1[i]; i++)
		if ((r = run(c, "migration", migration_1[i], 0, NULL, PGRES_COMMAND_OK, NULL,
			     err)) < 0)
			goto fail;
	if (version < COORD_SCHEMA_VERSION &&
	    (r = run(c, "migration", "INSERT INTO " COORD_SCHEMA ".version VALUES (1)", 0, NULL,
		     PGRES_COMMAND_OK, NULL, err)) < 0)
		goto fail;
	return run(c, "migration", "COMMIT", 0, NULL, PGRES_COMMAND_OK, NULL, err);
fail:
	return r;
}

/* A PostgreSQL text[] literal of the names in v[0..n) whose pick[i] is set (or all,
 * pick NULL).  Names are quoted, with backslash and double quote escaped. */
static char *array_literal(char *const *v, const bool *pick, size_t n)
{
	struct strbuf b = { 0 };
	bool first = true;

	strbuf_putc(&b, '{');
	for (size_t i = 0; i < n; i++) {
		if (pick && !pick[i])
			continue;
		strbuf_puts(&b, first ? "\"" : ",\"");
		first = false;
		for (const char *p = v[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				strbuf_putc(&b, '\\');
			strbuf_putc(&b, *p);
		}
		strbuf_putc(&b, '"');
	}
	strbuf_putc(&b, '}');
	return strbuf_take(&b);
}

static long find_name(char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return (long)i;
	return -1;
}

/* The holder's writes, each only where no other node holds a live lease: a
 * daemon that lost its lease must not overwrite its successor's state. */
static int write_states(struct coord *c, const struct coord_round_in *in,
			struct coord_round_out *out, struct error *err)
{
	static const char state_sql[] =
		"INSERT INTO " COORD_SCHEMA ".target_state AS s (target, alert_state, node)"
		" SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM " COORD_SCHEMA ".leases l"
		"  WHERE l.target = $1 AND l.node <> $3 AND l.expires > now())"
		" ON CONFLICT (target) DO UPDATE SET alert_state = EXCLUDED.alert_state,"
		"  node = EXCLUDED.node, updated = now()";
	static const char baseline_sql[] =
		"INSERT INTO " COORD_SCHEMA ".target_state AS s"
		" (target, baseline_hash, baseline, node)"
		" SELECT $1, $2, $4::bytea, $3 WHERE NOT EXISTS (SELECT 1 FROM " COORD_SCHEMA
		".leases l  WHERE l.target = $1 AND l.node <> $3 AND l.expires > now())"
		" ON CONFLICT (target) DO UPDATE SET baseline_hash = EXCLUDED.baseline_hash,"
		"  baseline = EXCLUDED.baseline, node = EXCLUDED.node, updated = now()";
	int r = 0;

	for (size_t i = 0; r == 0 && i < in->n_writes; i++) {
		const struct coord_write *w = &in->writes[i];
		PGresult *res = NULL;

		if (w->alert_state) {
			const char *vals[] = { w->target, w->alert_state, c->node };
			if ((r = run(c, "writing the alert state", state_sql, 3, vals,
				     PGRES_COMMAND_OK, &res, err)) < 0)
				break;
			out->writes_refused += strcmp(PQcmdTuples(res), "0") == 0;
			PQclear(res);
		}
		if (w->baseline_hash && w->baseline_path) {
			char *bytes = NULL;
			size_t len = 0;
			const char *vals[4] = { w->target, w->baseline_hash, c->node, NULL };
			const int formats[4] = { 0, 0, 0, 1 };
			struct error fe;

			/* The snapshot file is content-addressed and a baseline is
			 * never pruned, so reading it here, off the loop, is safe. */
			if (fileio_read_state(w->baseline_path, &bytes, &len, &fe) < 0) {
				/* The loop publishes it again at the next run. */
				out->unpublished[i] = strdup(fe.text);
				continue;
			}
			const int lens[4] = { 0, 0, 0, (int)len };
			vals[3] = bytes;
			r = run_params(c, "publishing the baseline", baseline_sql, 4, vals, lens,
				       formats, PGRES_COMMAND_OK, &res, err);
			if (r == 0)
				out->writes_refused += strcmp(PQcmdTuples(res), "0") == 0;
			PQclear(res);
			free(bytes);
		}
	}
	return r;
}

/* The live nodes, sorted (ourselves among them: we just sent a heartbeat). */
static int live_nodes(struct coord *c, const char *interval, char ***ret, size_t *ret_n,
		      struct error *err)
{
	const char *vals[] = { interval };
	PGresult *res = NULL;
	char **nodes;
	int n, r;

	if ((r = run(c, "reading the live nodes",
		     "SELECT node FROM " COORD_SCHEMA ".nodes"
		     " WHERE heartbeat > now() - $1::interval ORDER BY node", 1, vals,
		     PGRES_TUPLES_OK, &res, err)) < 0)
		return r;
	n = PQntuples(res);
	nodes = calloc((size_t)n + 1, sizeof(*nodes));
	for (int i = 0; nodes && i < n; i++)
		if (!(nodes[i] = strdup(PQgetvalue(res, i, 0)))) {
			for (int k = 0; k < i; k++)
				free(nodes[k]);
			free(nodes);
			nodes = NULL;
		}
	PQclear(res);
	if (!nodes)
		return error_set(err, -ENOMEM, "out of memory");
	*ret = nodes;
	*ret_n = (size_t)n;
	return 0;
}

static int read_states(struct coord *c, const struct coord_round_in *in,
		       struct coord_round_out *out, struct error *err)
{
	bool *fresh = calloc(in->n + 1, sizeof(*fresh));
	size_t n_fresh = 0;
	char *list = NULL;
	PGresult *res = NULL;
	int r = 0;

	if (!fresh)
		return error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < in->n; i++)
		n_fresh += fresh[i] = out->held[i] && !in->held[i];
	if (!n_fresh)
		goto out;
	if (!(list = array_literal(in->targets, fresh, in->n))) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	const char *vals[] = { list };
	if ((r = run(c, "reading the shared state",
		     "SELECT target, alert_state, baseline_hash, baseline, node FROM " COORD_SCHEMA
		     ".target_state WHERE target = ANY($1::text[])", 1, vals, PGRES_TUPLES_OK, &res,
		     err)) < 0)
		goto out;
	for (int row = 0; row < PQntuples(res); row++) {
		long i = find_name(in->targets, in->n, PQgetvalue(res, row, 0));
		struct coord_target_state *s;

		if (i < 0)
			continue;
		s = &out->state[i];
		if (!PQgetisnull(res, row, 1) &&
		    !(s->alert_state = strdup(PQgetvalue(res, row, 1))))
			r = -ENOMEM;
		if (!(s->node = strdup(PQgetvalue(res, row, 4))))
			r = -ENOMEM;
		if (!PQgetisnull(res, row, 2) && !PQgetisnull(res, row, 3)) {
			size_t len = 0;
			unsigned char *raw = PQunescapeBytea(
				(const unsigned char *)PQgetvalue(res, row, 3), &len);

			s->baseline_hash = strdup(PQgetvalue(res, row, 2));
			s->baseline = raw ? malloc(len + 1) : NULL;
			if (s->baseline) {
				memcpy(s->baseline, raw, len);
				s->baseline_len = len;
			}
			PQfreemem(raw);
			if (!s->baseline_hash || !s->baseline)
				r = -ENOMEM;
		}
	}
	if (r < 0)
		error_set(err, r, "out of memory");
out:
	PQclear(res);
	free(list);
	free(fresh);
	return r;
}

/* Who holds each of our targets now (for status), and how many leases. */
static int read_holders(struct coord *c, const struct coord_round_in *in, const char *all,
			struct coord_round_out *out, struct error *err)
{
	const char *vals[] = { all };
	PGresult *res = NULL;
	int r = run(c, "reading the leases",
		    "SELECT target, node FROM " COORD_SCHEMA ".leases"
		    " WHERE target = ANY($1::text[]) AND expires > now()", 1, vals,
		    PGRES_TUPLES_OK, &res, err);

	for (int row = 0; r == 0 && row < PQntuples(res); row++) {
		long i = find_name(in->targets, in->n, PQgetvalue(res, row, 0));
		if (i >= 0 && !(out->holder[i] = strdup(PQgetvalue(res, row, 1))))
			r = error_set(err, -ENOMEM, "out of memory");
	}
	PQclear(res);
	return r;
}

int coord_round(struct coord *c, const struct coord_round_in *in, struct coord_round_out *ret,
		struct error *err)
{
	struct coord_round_out out = { 0 };
	char interval[48], **nodes = NULL, *keep_list = NULL, *all = NULL;
	size_t n_nodes = 0;
	bool *keep = NULL;
	PGresult *res = NULL;
	int r;

	c->queries = 0;
	snprintf(interval, sizeof(interval), "%lld milliseconds", (long long)c->lease_timeout_ms);
	out.held = calloc(in->n + 1, sizeof(*out.held));
	out.holder = calloc(in->n + 1, sizeof(*out.holder));
	out.owner = calloc(in->n + 1, sizeof(*out.owner));
	out.state = calloc(in->n + 1, sizeof(*out.state));
	keep = calloc(in->n + 1, sizeof(*keep));
	out.unpublished = calloc(in->n_writes + 1, sizeof(*out.unpublished));
	out.n_unpublished = in->n_writes;
	if (!out.held || !out.holder || !out.owner || !out.state || !keep || !out.unpublished) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto done;
	}
	if (!c->conn && (r = connect_db(c, err)) < 0)
		goto done;
	if (!c->migrated) {
		if ((r = migrate(c, &out.migrated, err)) < 0)
			goto done;
		c->migrated = true;
	}
	const char *hb[] = { c->node };
	if ((r = run(c, "heartbeat",
		     "INSERT INTO " COORD_SCHEMA ".nodes (node, heartbeat) VALUES ($1, now())"
		     " ON CONFLICT (node) DO UPDATE SET heartbeat = now()", 1, hb, PGRES_COMMAND_OK,
		     NULL, err)) < 0 ||
	    (r = write_states(c, in, &out, err)) < 0 ||
	    (r = live_nodes(c, interval, &nodes, &n_nodes, err)) < 0)
		goto done;
	out.live_nodes = n_nodes;
	if (in->leaving) {
		const char *me[] = { c->node };
		if ((r = run(c, "releasing leases",
			     "DELETE FROM " COORD_SCHEMA ".leases WHERE node = $1", 1, me,
			     PGRES_COMMAND_OK, NULL, err)) < 0 ||
		    (r = run(c, "leaving", "DELETE FROM " COORD_SCHEMA ".nodes WHERE node = $1", 1,
			     me, PGRES_COMMAND_OK, NULL, err)) < 0)
			goto done;
		out.queries = c->queries;
		*ret = out;
		out = (struct coord_round_out){ 0 };
		goto done;
	}
	for (size_t i = 0; i < in->n; i++) {
		long owner = coord_rendezvous(nodes, n_nodes, in->targets[i]);
		bool ours = owner >= 0 && strcmp(nodes[owner], c->node) == 0;

		if (owner >= 0 && !(out.owner[i] = strdup(nodes[owner]))) {
			r = error_set(err, -ENOMEM, "out of memory");
			goto done;
		}
		/* A run in flight finishes under the lease it started with; the
		 * target moves on the next round. */
		keep[i] = ours || (in->held[i] && in->busy[i]);
	}
	if (!(keep_list = array_literal(in->targets, keep, in->n)) ||
	    !(all = array_literal(in->targets, NULL, in->n))) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto done;
	}
	/* Leases we hold but should not (a node joined, a target left the configuration). */
	const char *rel[] = { c->node, keep_list };
	if ((r = run(c, "releasing leases",
		     "DELETE FROM " COORD_SCHEMA ".leases"
		     " WHERE node = $1 AND NOT target = ANY($2::text[])",
		     2, rel, PGRES_COMMAND_OK, NULL, err)) < 0)
		goto done;
	/* Take or renew, in one statement.  Sorted, so that two daemons lock
	 * the rows they both want in the same order and never deadlock. */
	const char *take[] = { c->node, interval, keep_list };
	if ((r = run(c, "taking leases",
		     "INSERT INTO " COORD_SCHEMA ".leases AS l (target, node, expires, acquired)"
		     " SELECT t, $1, now() + $2::interval, now()"
		     "  FROM unnest($3::text[]) AS t ORDER BY t"
		     " ON CONFLICT (target) DO UPDATE SET node = EXCLUDED.node,"
		     "  expires = EXCLUDED.expires,"
		     "  acquired = CASE WHEN l.node = EXCLUDED.node THEN l.acquired ELSE now() END,"
		     "  takeovers = l.takeovers"
		     "   + CASE WHEN l.node = EXCLUDED.node THEN 0 ELSE 1 END"
		     " WHERE l.node = EXCLUDED.node OR l.expires <= now()"
		     " RETURNING target, acquired = now() AND takeovers > 0",
		     3, take, PGRES_TUPLES_OK, &res, err)) < 0)
		goto done;
	for (int row = 0; row < PQntuples(res); row++) {
		long i = find_name(in->targets, in->n, PQgetvalue(res, row, 0));
		if (i < 0)
			continue;
		out.held[i] = true;
		/* Taken from another node this round (not merely renewed). */
		out.taken_over += !in->held[i] && strcmp(PQgetvalue(res, row, 1), "t") == 0;
	}
	PQclear(res);
	res = NULL;
	if ((r = read_holders(c, in, all, &out, err)) < 0 ||
	    (r = read_states(c, in, &out, err)) < 0)
		goto done;
	/* Nodes gone for long are forgotten (a killed daemon's row, a renamed node). */
	if ((r = run(c, "forgetting old nodes",
		     "DELETE FROM " COORD_SCHEMA ".nodes"
		     " WHERE heartbeat < now() - 10 * $1::interval",
		     1, (const char *const[]){ interval }, PGRES_COMMAND_OK, NULL, err)) < 0)
		goto done;
	out.queries = c->queries;
	*ret = out;
	out = (struct coord_round_out){ 0 };
done:
	if (r < 0 && c->conn) {
		/* Whatever state the session is in (an open transaction, a
		 * broken socket), the next round starts on a new one. */
		PQfinish(c->conn);
		c->conn = NULL;
		c->migrated = false;
	}
	coord_round_out_done(&out, in->n);
	for (size_t i = 0; i < n_nodes; i++)
		free(nodes[i]);
	free(nodes);
	free(keep);
	free(keep_list);
	free(all);
	PQclear(res);
	return r;
}
