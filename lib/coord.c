/* Coordination through PostgreSQL: the schema migration, heartbeats, leases and shared state. */
#include "coord.h"

#include <errno.h>
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
#include "pgdb.h"
#include "strbuf.h"

struct coord {
	char *node;
	int64_t lease_timeout_ms;
	struct pgdb *db;
	bool migrated;
	uint64_t queries_at_round; /* pgdb_queries() when the round began */
};

int coord_new(const struct coord_options *o, struct coord **ret)
{
	struct coord *c = calloc(1, sizeof(*c));
	/* Each statement is short; one stuck behind a lock must not outlive a
	 * lease, and a round that hangs on a dead peer holds the worker, not the
	 * loop, which lets its leases lapse meanwhile. */
	struct pgdb_options po = {
		.dsn = o->dsn,
		.password = o->password,
		.application_name = "schemadriftd-coordination",
		.label = "coordination",
		.connect_timeout_ms = o->connect_timeout_ms,
		.statement_timeout_ms = o->lease_timeout_ms / 2,
		.deadline_ms = o->lease_timeout_ms / 2 + 1000,
	};

	if (!c)
		return -ENOMEM;
	c->node = strdup(o->node);
	c->lease_timeout_ms = o->lease_timeout_ms;
	if (!c->node || pgdb_new(&po, &c->db) < 0) {
		coord_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

void coord_free(struct coord *c)
{
	if (!c)
		return;
	pgdb_free(c->db);
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

static int run_params(struct coord *c, const char *what, const char *sql, int n,
		      const char *const *vals, const int *lens, const int *formats,
		      ExecStatusType want, PGresult **ret, struct error *err)
{
	return pgdb_exec(c->db, what, sql, n, vals, lens, formats, want, ret, NULL, err);
}

static int run(struct coord *c, const char *what, const char *sql, int n, const char *const *vals,
	       ExecStatusType want, PGresult **ret, struct error *err)
{
	return run_params(c, what, sql, n, vals, NULL, NULL, want, ret, err);
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

static const char *const *const migrations[] = { migration_1 };
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == COORD_SCHEMA_VERSION,
	       "one list of statements per schema version");

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

	c->queries_at_round = pgdb_queries(c->db);
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
	if (!pgdb_connected(c->db)) {
		c->migrated = false;
		if ((r = pgdb_connect(c->db, err)) < 0)
			goto done;
	}
	if (!c->migrated) {
		if ((r = pgdb_migrate(c->db, COORD_SCHEMA, COORD_SCHEMA_VERSION, migrations,
				      &out.migrated, err)) < 0)
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
		out.queries = (unsigned)(pgdb_queries(c->db) - c->queries_at_round);
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
	out.queries = (unsigned)(pgdb_queries(c->db) - c->queries_at_round);
	*ret = out;
	out = (struct coord_round_out){ 0 };
done:
	if (r < 0) {
		/* Whatever state the session is in (an open transaction, a
		 * broken socket), the next round starts on a new one. */
		pgdb_disconnect(c->db);
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
