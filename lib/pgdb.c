/* A libpq session for schemadrift's own tables: bounded statements, errors, migrations. */
#include "pgdb.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ini.h"
#include "isotime.h"
#include "live.h"

struct pgdb {
	char *dsn, *password, *application_name, *label;
	int connect_timeout_ms;
	int64_t statement_timeout_ms, deadline_ms;
	PGconn *conn;
	char where[512];
	uint64_t queries;
};

int pgdb_new(const struct pgdb_options *o, struct pgdb **ret)
{
	struct pgdb *db = calloc(1, sizeof(*db));

	if (!db)
		return -ENOMEM;
	db->dsn = strdup(o->dsn);
	db->password = o->password ? strdup(o->password) : NULL;
	db->application_name = strdup(o->application_name ? o->application_name : "schemadrift");
	db->label = strdup(o->label ? o->label : "database");
	db->connect_timeout_ms = o->connect_timeout_ms;
	db->statement_timeout_ms = o->statement_timeout_ms;
	db->deadline_ms = o->deadline_ms > 0 ? o->deadline_ms : 30000;
	if (!db->dsn || !db->application_name || !db->label || (o->password && !db->password)) {
		pgdb_free(db);
		return -ENOMEM;
	}
	live_describe_dsn(db->dsn, db->where, sizeof(db->where));
	*ret = db;
	return 0;
}

void pgdb_free(struct pgdb *db)
{
	if (!db)
		return;
	pgdb_disconnect(db);
	free(db->dsn);
	ini_secret_free(db->password);
	free(db->application_name);
	free(db->label);
	free(db);
}

void pgdb_disconnect(struct pgdb *db)
{
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
}

bool pgdb_connected(const struct pgdb *db)
{
	return db->conn && PQstatus(db->conn) == CONNECTION_OK;
}

const char *pgdb_where(const struct pgdb *db)
{
	return db->where;
}

uint64_t pgdb_queries(const struct pgdb *db)
{
	return db->queries;
}

/* libpq's message for the last failure, one line, redacted and escaped. */
static int pq_error(struct pgdb *db, const char *what, const PGresult *res, struct error *err)
{
	char msg[600];

	snprintf(msg, sizeof(msg), "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
	if (!msg[0] && db->conn)
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(db->conn));
	msg[strcspn(msg, "\n")] = '\0';
	live_redact(db->dsn, db->password, msg, sizeof(msg));
	return error_set(err, -EIO, "%s %s: %s: %s", db->label, db->where, what, msg);
}

/* Waits until the socket is ready for events or the deadline (monotonic ms) passes. */
static int wait_socket(struct pgdb *db, short events, int64_t deadline)
{
	struct pollfd p = { .fd = PQsocket(db->conn), .events = events };
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

static PGresult *exec_bounded(struct pgdb *db, const char *sql, int n, const char *const *vals,
			      const int *lens, const int *formats, bool *ret_timed_out)
{
	int64_t deadline = isotime_mono_ms() + db->deadline_ms;
	PGresult *res, *last = NULL;
	int f;

	*ret_timed_out = false;
	if (!PQsendQueryParams(db->conn, sql, n, NULL, vals, lens, formats, 0))
		return NULL;
	while ((f = PQflush(db->conn)) == 1)
		if (wait_socket(db, POLLOUT | POLLIN, deadline) < 0 || !PQconsumeInput(db->conn))
			goto fail;
	if (f < 0)
		goto fail;
	for (;;) {
		while (PQisBusy(db->conn))
			if (wait_socket(db, POLLIN, deadline) < 0 || !PQconsumeInput(db->conn))
				goto fail;
		if (!(res = PQgetResult(db->conn)))
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

int pgdb_exec(struct pgdb *db, const char *what, const char *sql, int n, const char *const *vals,
	      const int *lens, const int *formats, ExecStatusType want, PGresult **ret,
	      char ret_sqlstate[6], struct error *err)
{
	bool timed_out;
	PGresult *res;
	int r = 0;

	if (ret_sqlstate)
		ret_sqlstate[0] = '\0';
	if (!db->conn && (r = pgdb_connect(db, err)) < 0)
		return r;
	res = exec_bounded(db, sql, n, vals, lens, formats, &timed_out);
	db->queries++;
	if (timed_out) {
		r = error_set(err, -ETIMEDOUT, "%s %s: %s: no answer within %lld ms", db->label,
			      db->where, what, (long long)db->deadline_ms);
	} else if (!res || PQresultStatus(res) != want) {
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

		if (ret_sqlstate && state)
			snprintf(ret_sqlstate, 6, "%s", state);
		r = pq_error(db, what, res, err);
	}
	if (r == 0 && ret)
		*ret = res;
	else
		PQclear(res);
	return r;
}

static int run(struct pgdb *db, const char *what, const char *sql, ExecStatusType want,
	       PGresult **ret, struct error *err)
{
	return pgdb_exec(db, what, sql, 0, NULL, NULL, NULL, want, ret, NULL, err);
}

/* The server's notices ("schema ... already exists, skipping") are nobody's business:
 * libpq's default prints them on stderr, and library code never prints. */
static void no_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int pgdb_connect(struct pgdb *db, struct error *err)
{
	char timeout[32], user_timeout[32];
	const char *const keys[] = { "dbname", "application_name", "client_encoding", "keepalives",
				     "keepalives_idle", "keepalives_interval", "keepalives_count",
				     "tcp_user_timeout", "connect_timeout",
				     db->password ? "password" : NULL, NULL };
	const char *vals[] = { db->dsn, db->application_name, "UTF8", "1", "5", "2", "3",
			       user_timeout, timeout, db->password, NULL };
	char sql[128];

	if (db->conn) {
		if (PQstatus(db->conn) == CONNECTION_OK)
			return 0;
		pgdb_disconnect(db);
	}
	/* libpq's connect_timeout is whole seconds; tcp_user_timeout bounds how long
	 * a dead peer can hold a write. */
	snprintf(timeout, sizeof(timeout), "%d",
		 db->connect_timeout_ms > 0 ? (db->connect_timeout_ms + 999) / 1000 : 10);
	snprintf(user_timeout, sizeof(user_timeout), "%lld", (long long)db->deadline_ms);
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (!db->conn)
		return error_set(err, -ENOMEM, "out of memory");
	if (PQstatus(db->conn) != CONNECTION_OK) {
		int r = pq_error(db, "cannot connect", NULL, err);
		pgdb_disconnect(db);
		return r;
	}
	PQsetNoticeProcessor(db->conn, no_notices, NULL);
	/* Statements are sent and read with our own deadline (exec_bounded). */
	if (PQsetnonblocking(db->conn, 1) != 0) {
		int r = pq_error(db, "non-blocking mode", NULL, err);
		pgdb_disconnect(db);
		return r;
	}
	if (db->statement_timeout_ms > 0) {
		int r;

		snprintf(sql, sizeof(sql), "SET statement_timeout = %lld",
			 (long long)db->statement_timeout_ms);
		if ((r = run(db, "set statement_timeout", sql, PGRES_COMMAND_OK, NULL, err)) < 0) {
			pgdb_disconnect(db);
			return r;
		}
	}
	return 0;
}

/* The schema's version, 0 without one; nothing created (no privilege needed but USAGE). */
static int schema_version(struct pgdb *db, const char *schema, int *ret, struct error *err)
{
	const char *const vals[] = { schema };
	PGresult *res = NULL;
	char sql[256];
	bool exists;
	int r;

	if ((r = pgdb_exec(db, "migration", "SELECT to_regclass(quote_ident($1) || '.version') IS NOT NULL",
			   1, vals, NULL, NULL, PGRES_TUPLES_OK, &res, NULL, err)) < 0)
		return r;
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!exists) {
		*ret = 0;
		return 0;
	}
	snprintf(sql, sizeof(sql), "SELECT coalesce(max(version), 0) FROM %s.version", schema);
	if ((r = run(db, "migration", sql, PGRES_TUPLES_OK, &res, err)) < 0)
		return r;
	*ret = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int pgdb_migrate(struct pgdb *db, const char *schema, int version,
		 const char *const *const *migrations, bool *ret_applied, struct error *err)
{
	PGresult *res = NULL;
	char sql[512];
	int have, r;

	*ret_applied = false;
	if ((r = schema_version(db, schema, &have, err)) < 0)
		return r;
	if (have == version)
		return 0;
	/* Daemons that start together take turns: the lock is held to COMMIT. */
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(hashtext('%s'))", schema);
	if ((r = run(db, "migration", "BEGIN", PGRES_COMMAND_OK, NULL, err)) < 0 ||
	    (r = run(db, "migration", sql, PGRES_TUPLES_OK, NULL, err)) < 0)
		goto fail;
	snprintf(sql, sizeof(sql), "CREATE SCHEMA IF NOT EXISTS %s", schema);
	if ((r = run(db, "migration", sql, PGRES_COMMAND_OK, NULL, err)) < 0)
		goto fail;
	snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS %s.version (version integer NOT NULL)",
		 schema);
	if ((r = run(db, "migration", sql, PGRES_COMMAND_OK, NULL, err)) < 0)
		goto fail;
	snprintf(sql, sizeof(sql), "SELECT coalesce(max(version), 0) FROM %s.version", schema);
	if ((r = run(db, "migration", sql, PGRES_TUPLES_OK, &res, err)) < 0)
		goto fail;
	have = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (have > version) {
		r = error_set(err, -EPROTO,
			      "%s %s: the schema %s is at version %d, newer than this program's %d: "
			      "upgrade schemadrift",
			      db->label, db->where, schema, have, version);
		goto fail;
	}
	for (int v = have + 1; v <= version; v++) {
		for (size_t i = 0; migrations[v - 1][i]; i++)
			if ((r = run(db, "migration", migrations[v - 1][i], PGRES_COMMAND_OK, NULL,
				     err)) < 0)
				goto fail;
		snprintf(sql, sizeof(sql), "INSERT INTO %s.version VALUES (%d)", schema, v);
		if ((r = run(db, "migration", sql, PGRES_COMMAND_OK, NULL, err)) < 0)
			goto fail;
	}
	if ((r = run(db, "migration", "COMMIT", PGRES_COMMAND_OK, NULL, err)) < 0)
		goto fail;
	*ret_applied = have < version;
	return 0;
fail:
	/* The session is in an aborted transaction, or gone: start anew next time. */
	pgdb_disconnect(db);
	return r;
}
