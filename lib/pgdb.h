/* A libpq session for schemadrift's own tables (coordination, the central store): bounded statements, migrations. */
#ifndef SCHEMADRIFT_PGDB_H
#define SCHEMADRIFT_PGDB_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "error.h"

/*
 * One connection to a database that schemadrift writes its own tables in
 * (docs/operations.md: the coordination database, the central store).
 * Every statement is sent with libpq's asynchronous calls and waited for
 * with a deadline of our own, so a server that stopped answering (hung, or
 * behind a link that drops everything but keepalives) cannot hold the caller
 * for longer than deadline_ms; the server's statement_timeout, shorter,
 * normally answers first.  Errors name `what` and the server as the DSN says
 * (host, port, dbname) with libpq's reason, redacted of the password and
 * escaped.  A struct pgdb is used by one thread at a time.
 */
struct pgdb;

struct pgdb_options {
	const char *dsn;
	const char *password;         /* NULL: none (or a .pgpass, a service file) */
	const char *application_name; /* "schemadriftd-coordination" */
	const char *label;            /* how messages name it: "coordination", "store" */
	int connect_timeout_ms;       /* 0: 10 s */
	int64_t statement_timeout_ms; /* the server's statement_timeout; 0: none set */
	int64_t deadline_ms;          /* our own wait for one statement; also tcp_user_timeout */
};

/* Copies o's strings; connects on first use. */
int pgdb_new(const struct pgdb_options *o, struct pgdb **ret);
/* Closes the connection; the password copy is wiped. */
void pgdb_free(struct pgdb *db);

/* Connects if not connected. */
int pgdb_connect(struct pgdb *db, struct error *err);
/* Drops the session (after an error: whatever state it is in, the next use starts anew). */
void pgdb_disconnect(struct pgdb *db);
bool pgdb_connected(const struct pgdb *db);
/* "host:port/dbname" as the DSN says, for messages. */
const char *pgdb_where(const struct pgdb *db);
/* Statements sent since pgdb_new(). */
uint64_t pgdb_queries(const struct pgdb *db);

/*
 * Runs sql with n parameters (text unless formats says otherwise; lens for
 * binary ones) and checks the result's status is want.  *ret (may be NULL)
 * gets the result, to PQclear.  Errors: -ETIMEDOUT past the deadline, -EIO
 * with the server's message, and ret_sqlstate (may be NULL, 6 bytes) gets
 * the SQLSTATE when the server sent one.
 */
int pgdb_exec(struct pgdb *db, const char *what, const char *sql, int n, const char *const *vals,
	      const int *lens, const int *formats, ExecStatusType want, PGresult **ret,
	      char ret_sqlstate[6], struct error *err);

/*
 * Brings schema up to version: migrations[v - 1] is the NULL-terminated list
 * of statements of version v.  When the schema is already there, only two
 * SELECTs are sent (no DDL: PostgreSQL checks CREATE on the database before
 * CREATE SCHEMA IF NOT EXISTS looks).  Otherwise, in one transaction under
 * an advisory lock on the schema's name, so daemons that start together
 * migrate once; a schema newer than version is refused (-EPROTO).
 */
int pgdb_migrate(struct pgdb *db, const char *schema, int version,
		 const char *const *const *migrations, bool *ret_applied, struct error *err);

#endif
