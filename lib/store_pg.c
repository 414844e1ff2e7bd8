/* The central store: a target's files in PostgreSQL tables (store = postgresql). */
#include "store_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "fileio.h"
#include "ini.h"
#include "isotime.h"
#include "pgdb.h"

/*
 * The tables (schema STORE_PG_SCHEMA, docs/store.md):
 *   targets(target)                    one row per target with a store
 *   snapshots(hash, body)              content-addressed: one row per distinct
 *                                      snapshot, whichever targets have it
 *   target_snapshots(target, hash)     which target stored which snapshot, when
 *   files(target, name, body)          state files: baseline.json, acks.json...
 *   lines(target, name, seq, line)     logs: history.log, audit.log, a row a line
 *   corrupt(target, name, body)        what was moved aside
 * Every write is one statement or one transaction, so a daemon killed
 * mid-write leaves the old contents or the new, and a state file and its
 * audit line commit together.
 */
#define S STORE_PG_SCHEMA "."
#define STORE_PG_RETRY_MS 3000

static const char *const migration_1[] = {
	"CREATE TABLE " S "targets (target text PRIMARY KEY,"
	" created timestamptz NOT NULL DEFAULT now())",
	"CREATE TABLE " S "snapshots (hash text PRIMARY KEY, body text NOT NULL,"
	" stored timestamptz NOT NULL DEFAULT now())",
	"CREATE TABLE " S "target_snapshots (target text NOT NULL REFERENCES " S "targets"
	" ON DELETE CASCADE, hash text NOT NULL REFERENCES " S "snapshots,"
	" stored timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (target, hash))",
	"CREATE INDEX ON " S "target_snapshots (hash)",
	"CREATE TABLE " S "files (target text NOT NULL REFERENCES " S "targets ON DELETE CASCADE,"
	" name text NOT NULL, body text NOT NULL, mtime timestamptz NOT NULL DEFAULT now(),"
	" PRIMARY KEY (target, name))",
	"CREATE TABLE " S "lines (target text NOT NULL REFERENCES " S "targets ON DELETE CASCADE,"
	" name text NOT NULL, seq bigserial, line text NOT NULL, PRIMARY KEY (target, name, seq))",
	"CREATE TABLE " S "corrupt (target text NOT NULL, name text NOT NULL, body text NOT NULL,"
	" moved timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (target, name))",
	NULL,
};
static const char *const *const migrations[] = { migration_1 };
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_PG_SCHEMA_VERSION,
	       "one list of statements per schema version");

struct store_central {
	struct pgdb *db;
	pthread_mutex_t mu; /* recursive: a store's lock holds it, its calls take it again */
	bool migrated;
	uint64_t session;   /* counts connections: a lock is only good in its own session */
	/* A connection that failed is not tried again for a while: each try blocks
	 * its caller (the daemon's loop) for up to connect_timeout. */
	int64_t failed_at_ms;
	struct error failed;
	char where[600];    /* "postgresql:HOST:PORT/DB" */
};

int store_central_new(const struct store_central_options *o, struct store_central **ret,
		      struct error *err)
{
	struct store_central *c = calloc(1, sizeof(*c));
	int64_t timeout = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	struct pgdb_options po = {
		.dsn = o->dsn,
		.password = o->password,
		.application_name = "schemadrift-store",
		.label = "store",
		.connect_timeout_ms = o->connect_timeout_ms,
		.statement_timeout_ms = timeout,
		.deadline_ms = timeout + 1000,
	};
	pthread_mutexattr_t attr;

	if (!c || pgdb_new(&po, &c->db) < 0) {
		free(c);
		return error_set(err, -ENOMEM, "out of memory");
	}
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&c->mu, &attr);
	pthread_mutexattr_destroy(&attr);
	snprintf(c->where, sizeof(c->where), "postgresql:%s", pgdb_where(c->db));
	*ret = c;
	return 0;
}

void store_central_free(struct store_central *c)
{
	if (!c)
		return;
	pgdb_free(c->db);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

const char *store_central_where(const struct store_central *c)
{
	return c->where;
}

uint64_t store_central_queries(struct store_central *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->mu); /* the report thread's calls count too */
	n = pgdb_queries(c->db);
	pthread_mutex_unlock(&c->mu);
	return n;
}

/* Connected and migrated; called with the mutex held. */
static int ready(struct store_central *c, bool *ret_migrated, struct error *err)
{
	bool applied = false;
	int r;

	if (!pgdb_connected(c->db)) {
		c->migrated = false;
		if (c->failed_at_ms && isotime_mono_ms() - c->failed_at_ms < STORE_PG_RETRY_MS) {
			if (err)
				*err = c->failed;
			return c->failed.code;
		}
		if ((r = pgdb_connect(c->db, &c->failed)) < 0) {
			c->failed_at_ms = isotime_mono_ms();
			if (err)
				*err = c->failed;
			return r;
		}
		c->failed_at_ms = 0;
		c->session++;
	}
	if (!c->migrated) {
		if ((r = pgdb_migrate(c->db, STORE_PG_SCHEMA, STORE_PG_SCHEMA_VERSION, migrations,
				      &applied, err)) < 0)
			return r;
		c->migrated = true;
	}
	if (ret_migrated)
		*ret_migrated = applied;
	return 0;
}

int store_central_check(struct store_central *c, bool *ret_migrated, struct error *err)
{
	int r;

	pthread_mutex_lock(&c->mu);
	r = ready(c, ret_migrated, err);
	pthread_mutex_unlock(&c->mu);
	return r;
}

static struct store_central *central(const struct store *s)
{
	return s->opts.central;
}

/*
 * One statement for store s, with the mutex held: connected first, and a
 * session that timed out or broke is dropped so the next call starts anew.
 * A store that holds the lock must still be in the session it took it in.
 */
static int q(struct store *s, const char *what, const char *sql, int n, const char *const *vals,
	     ExecStatusType want, PGresult **ret, char sqlstate[6], struct error *err)
{
	struct store_central *c = central(s);
	int r = ready(c, NULL, err);

	if (r < 0)
		return r;
	if (s->lock_depth > 0 && s->lock_session != c->session)
		return error_set(err, -ECONNRESET,
				 "store %s: the connection was lost while target %s's store was "
				 "locked: %s not done",
				 pgdb_where(c->db), s->target, what);
	r = pgdb_exec(c->db, what, sql, n, vals, NULL, NULL, want, ret, sqlstate, err);
	if (r == -ETIMEDOUT || (r < 0 && !pgdb_connected(c->db)))
		pgdb_disconnect(c->db);
	return r;
}

/* The target's row, which every other row references: made by the first write when
 * store_open() could not (the store did not answer when the daemon started). */
static int registered(struct store *s, struct error *err)
{
	const char *const vals[] = { s->target };
	int r;

	if (s->registered)
		return 0;
	r = q(s, "creating the target",
	      "INSERT INTO " S "targets (target) VALUES ($1) ON CONFLICT DO NOTHING", 1, vals,
	      PGRES_COMMAND_OK, NULL, NULL, err);
	s->registered = r == 0;
	return r;
}

static int begin(struct store *s, struct error *err)
{
	return q(s, "begin", "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, NULL, err);
}

/* COMMIT after r == 0, ROLLBACK otherwise; a session that cannot roll back is dropped. */
static int finish(struct store *s, int r, struct error *err)
{
	if (r == 0)
		return q(s, "commit", "COMMIT", 0, NULL, PGRES_COMMAND_OK, NULL, NULL, err);
	if (q(s, "rollback", "ROLLBACK", 0, NULL, PGRES_COMMAND_OK, NULL, NULL, NULL) < 0)
		pgdb_disconnect(central(s)->db);
	return r;
}

/* What a name is: snapshots/<hash>.json, a log (*.log), or a state file. */
enum kind { SNAPSHOT, LOG, FILE_ };

static enum kind kind_of(const char *name, char hash[65])
{
	size_t n = strlen(name), d = strlen(SNAPSHOT_DIR "/");

	if (n == d + 69 && strncmp(name, SNAPSHOT_DIR "/", d) == 0 &&
	    strcmp(name + d + 64, ".json") == 0) {
		memcpy(hash, name + d, 64);
		hash[64] = '\0';
		return SNAPSHOT;
	}
	if (n > 4 && strcmp(name + n - 4, ".log") == 0)
		return LOG;
	return FILE_;
}

static int dup_value(PGresult *res, char **ret, size_t *ret_len, struct error *err)
{
	size_t len = (size_t)PQgetlength(res, 0, 0);
	char *buf = malloc(len + 1);

	if (!buf)
		return error_set(err, -ENOMEM, "out of memory");
	memcpy(buf, PQgetvalue(res, 0, 0), len);
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int pg_read(struct store *s, const char *name, char **ret, size_t *ret_len,
		   struct error *err)
{
	char hash[65];
	enum kind k = kind_of(name, hash);
	const char *const vals[] = { s->target, k == SNAPSHOT ? hash : name };
	static const char *const sql[] = {
		[SNAPSHOT] = "SELECT s.body FROM " S "target_snapshots t JOIN " S "snapshots s"
			     " USING (hash) WHERE t.target = $1 AND t.hash = $2",
		[LOG] = "SELECT string_agg(line || E'\\n', '' ORDER BY seq) FROM " S "lines"
			" WHERE target = $1 AND name = $2",
		[FILE_] = "SELECT body FROM " S "files WHERE target = $1 AND name = $2",
	};
	PGresult *res = NULL;
	int r;

	pthread_mutex_lock(&central(s)->mu);
	r = q(s, "reading", sql[k], 2, vals, PGRES_TUPLES_OK, &res, NULL, err);
	if (r == 0)
		r = PQntuples(res) == 0 || PQgetisnull(res, 0, 0) ? -ENOENT
								: dup_value(res, ret, ret_len, err);
	pthread_mutex_unlock(&central(s)->mu);
	PQclear(res);
	return r;
}

/* A log's contents as rows: every complete line, in order (a last line without '\n' is dropped,
 * as the file backend's reader drops it). */
static int write_log(struct store *s, const char *name, const char *buf, size_t len,
		     struct error *err)
{
	char *text = strndup(buf, len), *end;
	const char *const vals[] = { s->target, name, text };
	int r;

	if (!text)
		return error_set(err, -ENOMEM, "out of memory");
	end = strrchr(text, '\n');
	*(end ? end : text) = '\0';
	r = begin(s, err);
	if (r == 0)
		r = q(s, "rewriting", "DELETE FROM " S "lines WHERE target = $1 AND name = $2", 2, vals,
		      PGRES_COMMAND_OK, NULL, NULL, err);
	if (r == 0 && end)
		r = q(s, "rewriting",
		      "INSERT INTO " S "lines (target, name, line) SELECT $1, $2, l"
		      " FROM regexp_split_to_table($3, E'\\n') WITH ORDINALITY AS t (l, i) ORDER BY i",
		      3, vals, PGRES_COMMAND_OK, NULL, NULL, err);
	r = finish(s, r, err);
	free(text);
	return r;
}

static int write_snapshot(struct store *s, const char *hash, const char *text, struct error *err)
{
	const char *const vals[] = { s->target, hash, text };
	const char *const body[] = { hash, text };
	int r = begin(s, err);

	/* DO UPDATE locks the row, so a target pruning the same snapshot at the same
	 * moment waits and then keeps it (its delete fails the foreign key). */
	if (r == 0)
		r = q(s, "storing a snapshot",
		      "INSERT INTO " S "snapshots (hash, body) VALUES ($1, $2)"
		      " ON CONFLICT (hash) DO UPDATE SET body = EXCLUDED.body, stored = now()"
		      " WHERE " S "snapshots.body IS DISTINCT FROM EXCLUDED.body",
		      2, body, PGRES_COMMAND_OK, NULL, NULL, err);
	if (r == 0)
		r = q(s, "storing a snapshot",
		      "INSERT INTO " S "target_snapshots (target, hash) VALUES ($1, $2)"
		      " ON CONFLICT (target, hash) DO UPDATE SET stored = now()",
		      2, vals, PGRES_COMMAND_OK, NULL, NULL, err);
	return finish(s, r, err);
}

static int pg_write(struct store *s, const char *name, const void *buf, size_t len,
		    struct error *err)
{
	char hash[65], *text;
	enum kind k = kind_of(name, hash);
	int r;

	if (memchr(buf, '\0', len))
		return error_set(err, -EINVAL, "%s/%s: holds a NUL byte: not stored", s->where, name);
	pthread_mutex_lock(&central(s)->mu);
	if ((r = registered(s, err)) < 0) {
		/* nothing written */
	} else if (k == LOG) {
		r = write_log(s, name, buf, len, err);
	} else if (!(text = strndup(buf, len))) {
		r = error_set(err, -ENOMEM, "out of memory");
	} else {
		const char *const vals[] = { s->target, name, text };

		r = k == SNAPSHOT ? write_snapshot(s, hash, text, err)
				  : q(s, "writing",
				      "INSERT INTO " S "files (target, name, body) VALUES ($1, $2, $3)"
				      " ON CONFLICT (target, name) DO UPDATE"
				      " SET body = EXCLUDED.body, mtime = now()",
				      3, vals, PGRES_COMMAND_OK, NULL, NULL, err);
		free(text);
	}
	pthread_mutex_unlock(&central(s)->mu);
	return r;
}

/* A line without its '\n', NUL-terminated, malloc'd. */
static char *line_text(const char *line, size_t len)
{
	if (len && line[len - 1] == '\n')
		len--;
	return strndup(line, len);
}

static int pg_write_audited(struct store *s, const char *name, const void *buf, size_t len,
			    const char *line, size_t line_len, struct error *err)
{
	char *text = strndup(buf, len), *l = line_text(line, line_len);
	const char *const vals[] = { s->target, name, text };
	const char *const audit[] = { s->target, AUDIT_FILE, l };
	int r;

	if (!text || !l) {
		free(text);
		free(l);
		return error_set(err, -ENOMEM, "out of memory");
	}
	pthread_mutex_lock(&central(s)->mu);
	r = registered(s, err);
	if (r == 0 && (r = begin(s, err)) == 0)
		r = q(s, "writing",
		      "INSERT INTO " S "files (target, name, body) VALUES ($1, $2, $3)"
		      " ON CONFLICT (target, name) DO UPDATE SET body = EXCLUDED.body, mtime = now()",
		      3, vals, PGRES_COMMAND_OK, NULL, NULL, err);
	if (r == 0)
		r = q(s, "appending to the audit log",
		      "INSERT INTO " S "lines (target, name, line) VALUES ($1, $2, $3)", 3, audit,
		      PGRES_COMMAND_OK, NULL, NULL, err);
	r = finish(s, r, err);
	pthread_mutex_unlock(&central(s)->mu);
	free(text);
	free(l);
	return r;
}

static int pg_append(struct store *s, const char *name, const char *line, size_t len, bool sync,
		     struct error *err)
{
	char *l = line_text(line, len);
	const char *const vals[] = { s->target, name, l };
	int r;

	(void)sync; /* every commit is durable (synchronous_commit as the server has it) */
	if (!l)
		return error_set(err, -ENOMEM, "out of memory");
	pthread_mutex_lock(&central(s)->mu);
	if ((r = registered(s, err)) == 0)
		r = q(s, "appending",
		      "INSERT INTO " S "lines (target, name, line) VALUES ($1, $2, $3)", 3, vals,
		      PGRES_COMMAND_OK, NULL, NULL, err);
	pthread_mutex_unlock(&central(s)->mu);
	free(l);
	return r;
}

static int pg_exists(struct store *s, const char *name)
{
	char hash[65];
	enum kind k = kind_of(name, hash);
	const char *const vals[] = { s->target, k == SNAPSHOT ? hash : name };
	static const char *const sql[] = {
		[SNAPSHOT] = "SELECT 1 FROM " S "target_snapshots WHERE target = $1 AND hash = $2",
		[LOG] = "SELECT 1 FROM " S "lines WHERE target = $1 AND name = $2 LIMIT 1",
		[FILE_] = "SELECT 1 FROM " S "files WHERE target = $1 AND name = $2",
	};
	PGresult *res = NULL;
	int r;

	pthread_mutex_lock(&central(s)->mu);
	r = q(s, "looking up", sql[k], 2, vals, PGRES_TUPLES_OK, &res, NULL, NULL);
	if (r == 0)
		r = PQntuples(res) > 0;
	pthread_mutex_unlock(&central(s)->mu);
	PQclear(res);
	return r;
}

static int remove_locked(struct store *s, const char *name, struct error *err)
{
	char hash[65], state[6];
	enum kind k = kind_of(name, hash);
	const char *const vals[] = { s->target, k == SNAPSHOT ? hash : name };
	int r;

	if (k == LOG)
		return q(s, "removing", "DELETE FROM " S "lines WHERE target = $1 AND name = $2", 2,
			 vals, PGRES_COMMAND_OK, NULL, NULL, err);
	if (k == FILE_)
		return q(s, "removing", "DELETE FROM " S "files WHERE target = $1 AND name = $2", 2,
			 vals, PGRES_COMMAND_OK, NULL, NULL, err);
	/* The body goes with the last target that had it. */
	r = q(s, "removing a snapshot",
	      "WITH d AS (DELETE FROM " S "target_snapshots WHERE target = $1 AND hash = $2"
	      " RETURNING hash)"
	      " DELETE FROM " S "snapshots s USING d WHERE s.hash = d.hash AND NOT EXISTS"
	      " (SELECT 1 FROM " S "target_snapshots t WHERE t.hash = d.hash AND t.target <> $1)",
	      2, vals, PGRES_COMMAND_OK, NULL, state, err);
	if (r < 0 && strcmp(state, "23503") == 0) {
		/* Another target stored it meanwhile: only our reference goes. */
		error_clear(err);
		r = q(s, "removing a snapshot",
		      "DELETE FROM " S "target_snapshots WHERE target = $1 AND hash = $2", 2, vals,
		      PGRES_COMMAND_OK, NULL, NULL, err);
	}
	return r;
}

static int pg_remove(struct store *s, const char *name, struct error *err)
{
	int r;

	pthread_mutex_lock(&central(s)->mu);
	r = remove_locked(s, name, err);
	pthread_mutex_unlock(&central(s)->mu);
	return r;
}

static long long pg_log_mark(struct store *s, const char *name)
{
	const char *const vals[] = { s->target, name };
	PGresult *res = NULL;
	long long n = -1;

	pthread_mutex_lock(&central(s)->mu);
	if (q(s, "reading a log's end",
	      "SELECT coalesce(max(seq), 0) FROM " S "lines WHERE target = $1 AND name = $2", 2, vals,
	      PGRES_TUPLES_OK, &res, NULL, NULL) == 0)
		n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	pthread_mutex_unlock(&central(s)->mu);
	PQclear(res);
	return n;
}

static time_t pg_mtime(struct store *s, const char *name)
{
	char hash[65];
	enum kind k = kind_of(name, hash);
	const char *const vals[] = { s->target, k == SNAPSHOT ? hash : name };
	static const char *const sql[] = {
		[SNAPSHOT] = "SELECT extract(epoch FROM stored)::bigint FROM " S "target_snapshots"
			     " WHERE target = $1 AND hash = $2",
		[LOG] = "SELECT NULL",
		[FILE_] = "SELECT extract(epoch FROM mtime)::bigint FROM " S "files"
			  " WHERE target = $1 AND name = $2",
	};
	PGresult *res = NULL;
	time_t t = -1;

	if (k == LOG)
		return -1;
	pthread_mutex_lock(&central(s)->mu);
	if (q(s, "reading a time", sql[k], 2, vals, PGRES_TUPLES_OK, &res, NULL, NULL) == 0 &&
	    PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		t = (time_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	pthread_mutex_unlock(&central(s)->mu);
	PQclear(res);
	return t;
}

/* The first column of res as a NULL-terminated malloc'd array. */
static int strv_from(PGresult *res, char ***ret, size_t *ret_n, struct error *err)
{
	size_t n = (size_t)PQntuples(res);
	char **v = calloc(n + 1, sizeof(*v));

	if (!v)
		return error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(PQgetvalue(res, (int)i, 0)))) {
			store_strv_free(v);
			return error_set(err, -ENOMEM, "out of memory");
		}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int pg_list(struct store *s, const char *dir, char ***ret, size_t *ret_n, struct error *err)
{
	const char *const vals[] = { s->target };
	const char *sql = strcmp(dir, SNAPSHOT_DIR) == 0
				  ? "SELECT hash || '.json' FROM " S "target_snapshots"
				    " WHERE target = $1 ORDER BY 1"
			  : strcmp(dir, CORRUPT_DIR) == 0
				  ? "SELECT name FROM " S "corrupt WHERE target = $1 ORDER BY 1"
				  : NULL;
	PGresult *res = NULL;
	int r;

	if (!sql)
		return strv_from(NULL, ret, ret_n, err); /* no other directories */
	pthread_mutex_lock(&central(s)->mu);
	r = q(s, "listing", sql, 1, vals, PGRES_TUPLES_OK, &res, NULL, err);
	if (r == 0)
		r = strv_from(res, ret, ret_n, err);
	pthread_mutex_unlock(&central(s)->mu);
	PQclear(res);
	return r;
}

static int pg_aside(struct store *s, const char *name, bool keep, char *ret_path, size_t size,
		    struct error *err)
{
	const char *base = strrchr(name, '/');
	char *body = NULL, *dst = NULL, stamp[21];
	size_t len = 0;
	PGresult *res = NULL;
	int r;

	base = base ? base + 1 : name;
	isotime_format(store_now(s), stamp);
	pthread_mutex_lock(&central(s)->mu);
	r = pg_read(s, name, &body, &len, err);
	if (r == 0)
		r = begin(s, err);
	for (int i = 0; r == 0 && i < 1000; i++) {
		free(dst);
		if ((i ? asprintf(&dst, "%s.%s.%d", base, stamp, i)
		       : asprintf(&dst, "%s.%s", base, stamp)) < 0) {
			dst = NULL;
			r = error_set(err, -ENOMEM, "out of memory");
			break;
		}
		const char *const vals[] = { s->target, dst, body };
		PQclear(res);
		res = NULL;
		r = q(s, "moving aside",
		      "INSERT INTO " S "corrupt (target, name, body) VALUES ($1, $2, $3)"
		      " ON CONFLICT DO NOTHING RETURNING name",
		      3, vals, PGRES_TUPLES_OK, &res, NULL, err);
		if (r == 0 && PQntuples(res) == 1)
			break;
	}
	if (r == 0 && !keep)
		r = remove_locked(s, name, err);
	if (r == 0 || body)
		r = finish(s, r, err);
	if (r == 0)
		snprintf(ret_path, size, "%s/%s/%s", s->where, CORRUPT_DIR, dst);
	pthread_mutex_unlock(&central(s)->mu);
	PQclear(res);
	free(dst);
	free(body);
	return r;
}

/* Session advisory locks on (the schema's, the target's) hash: released with the
 * session, so a writer that dies never leaves its lock behind. */
static int pg_lock(struct store *s, struct error *err)
{
	struct store_central *c = central(s);
	int timeout = s->opts.lock_timeout_ms > 0 ? s->opts.lock_timeout_ms
						   : STORE_DEFAULT_LOCK_TIMEOUT_MS;
	const char *const vals[] = { s->target };
	struct timespec nap = { 0, 1000000 };
	int64_t start = isotime_mono_ms();
	int r;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		PGresult *res = NULL;
		bool got;

		r = q(s, "locking",
		      "SELECT pg_try_advisory_lock(hashtext('" STORE_PG_SCHEMA "'), hashtext($1))", 1,
		      vals, PGRES_TUPLES_OK, &res, NULL, err);
		if (r < 0)
			break;
		got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		if (got) {
			s->lock_session = c->session;
			return 0; /* the mutex stays held until pg_unlock() */
		}
		if (isotime_mono_ms() - start >= timeout) {
			r = error_set(err, -ETIMEDOUT,
				      "%s: another writer held the lock for %d ms; giving up", s->where,
				      timeout);
			break;
		}
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < 20000000)
			nap.tv_nsec *= 2;
	}
	pthread_mutex_unlock(&c->mu);
	return r;
}

static void pg_unlock(struct store *s)
{
	struct store_central *c = central(s);
	const char *const vals[] = { s->target };

	/* In another session the lock went with the old one. */
	if (s->lock_session == c->session && pgdb_connected(c->db) &&
	    pgdb_exec(c->db, "unlocking",
		      "SELECT pg_advisory_unlock(hashtext('" STORE_PG_SCHEMA "'), hashtext($1))", 1,
		      vals, NULL, NULL, PGRES_TUPLES_OK, NULL, NULL, NULL) < 0)
		pgdb_disconnect(c->db); /* which releases it */
	pthread_mutex_unlock(&c->mu);
}

const struct store_ops store_pg_ops = {
	.read = pg_read,
	.write = pg_write,
	.write_audited = pg_write_audited,
	.append = pg_append,
	.exists = pg_exists,
	.remove = pg_remove,
	.log_mark = pg_log_mark,
	.mtime = pg_mtime,
	.list = pg_list,
	.aside = pg_aside,
	.lock = pg_lock,
	.unlock = pg_unlock,
	.needs_recovery = false,
};

int store_pg_open(struct store *s, bool create, struct error *err)
{
	struct store_central *c = central(s);
	const char *const vals[] = { s->target };
	PGresult *res = NULL;
	int r;

	if (asprintf(&s->where, "%s/%s", c->where, s->target) < 0) {
		s->where = NULL;
		return error_set(err, -ENOMEM, "out of memory");
	}
	/* The local directory keeps what stays local (the daemon's alerts.log, the
	 * checks' and verify's state); the CLI does not need it. */
	if (create && ((r = store_mkdir_parents(s->dir, strlen(s->state_dir), err)) < 0 ||
		       (r = fileio_check_dir(s->state_dir, false, err)) < 0))
		return r;
	pthread_mutex_lock(&c->mu);
	if (create) {
		/* A store that does not answer now is no reason to drop the target: the
		 * first write makes the row (registered()) and reports the error if any. */
		(void)registered(s, NULL);
		r = 0;
	} else if ((r = q(s, "looking up the target",
			"SELECT 1 FROM " S "targets WHERE target = $1", 1, vals, PGRES_TUPLES_OK,
			&res, NULL, err)) == 0) {
		s->registered = PQntuples(res) > 0;
		if (!s->registered)
			r = error_set(err, -ENOENT, "no store for target '%s' in %s", s->target,
				      c->where);
	}
	pthread_mutex_unlock(&c->mu);
	PQclear(res);
	return r;
}

int store_pg_list_targets(struct store_central *c, char ***ret, size_t *ret_n, struct error *err)
{
	struct store probe = { .opts = { .central = c }, .target = "" };
	PGresult *res = NULL;
	int r;

	pthread_mutex_lock(&c->mu);
	r = q(&probe, "listing targets", "SELECT target FROM " S "targets ORDER BY target COLLATE \"C\"",
	      0, NULL, PGRES_TUPLES_OK, &res, NULL, err);
	if (r == 0)
		r = strv_from(res, ret, ret_n, err);
	pthread_mutex_unlock(&c->mu);
	PQclear(res);
	return r;
}

int store_central_from_config(const struct config *c, bool secrets, struct store_central **ret,
			      struct error *err)
{
	const struct config_daemon *d = &c->daemon;
	const struct ini_section *sec = ini_find(c->raw, "daemon", NULL);
	const struct ini_kv *kind = sec ? ini_get(sec, "store") : NULL;
	const struct ini_kv *pw_own = sec ? ini_get(sec, "store_password") : NULL;
	const struct ini_kv *pw = d->store_dsn ? pw_own
				  : sec ? ini_get(sec, "coordination_password") : NULL;
	const char *dsn = d->store_dsn ? d->store_dsn : d->coordination;
	struct store_central_options o = { .dsn = dsn, .connect_timeout_ms = 2000,
					   .timeout_ms = 5000 };
	char *password = NULL;
	int r;

	*ret = NULL;
	if (!d->store || strcmp(d->store, "postgresql") != 0) {
		if (d->store_dsn)
			return ini_error(sec ? ini_get(sec, "store_dsn") : NULL, err, -EINVAL,
					 "without store = postgresql (the store it is for)");
		return 0;
	}
	if (!dsn)
		return ini_error(kind, err, -EINVAL,
				 "store = postgresql needs a database: store_dsn, or coordination");
	if (pw_own && !d->store_dsn)
		return ini_error(pw_own, err, -EINVAL, "without store_dsn (the database it is for)");
	if (secrets && pw && (r = ini_secret(pw, &password, err)) < 0)
		return r;
	o.password = password;
	r = store_central_new(&o, ret, err);
	ini_secret_free(password);
	return r;
}
