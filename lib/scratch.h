/* The scratch side of verify: a throwaway database the repository's SQL is loaded into. */
#ifndef SCHEMADRIFT_SCRATCH_H
#define SCHEMADRIFT_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "migrate.h"
#include "model.h"

/*
 * Two kinds (docs/verify.md):
 *   - dsn set: a server where a uniquely named database is created, and
 *     dropped (with the stub roles created for it) by scratch_cleanup();
 *   - dsn NULL: an embedded cluster, initdb'd into a private temp dir from
 *     local server binaries, listening on a unix socket in that dir only,
 *     stopped and removed by scratch_cleanup().  As root, its processes run
 *     as the `postgres` user (else `nobody`): initdb and postgres refuse root.
 * Never the target: nothing here connects to it.
 */
struct scratch;

struct scratch_options {
	const char *dsn;        /* --scratch-dsn, or NULL for the embedded cluster */
	const char *pg_bindir;  /* server binaries; NULL: pg_config, Debian and RPM paths */
	int prefer_major;       /* embedded: prefer binaries of this major version (0: any) */
	int connect_timeout_s;  /* 0: 10 */
	/*
	 * Called with the scratch as soon as it exists, before anything is made
	 * (so that a signal handler can scratch_cleanup() what a start left
	 * half-made: the directory during initdb, the database before the
	 * connection), and with NULL before a failed scratch_open() frees it.
	 */
	void (*on_open)(struct scratch *s, void *arg);
	void *arg;
};

int scratch_open(const struct scratch_options *o, struct scratch **ret, struct error *err);

/* The scratch database as a libpq conninfo string (may hold the --scratch-dsn's password). */
const char *scratch_conninfo(const struct scratch *s);
/* For messages: "embedded PostgreSQL 15.5 (/usr/lib/postgresql/15/bin) in /tmp/..." */
const char *scratch_describe(const struct scratch *s);
/* PQserverVersion() of the scratch server. */
int scratch_server_version(const struct scratch *s);

/*
 * Makes the scratch database look like the target where a repository cannot
 * say: NOLOGIN stub roles for every role the target's owners, grants and
 * policies name, the target's extensions at its versions where the server
 * has them, check_function_bodies off; and SQL is then loaded as the role
 * that owns most of the target's objects, so ownership compares.  target is
 * the unfiltered live model.  What could not be matched becomes a warning.
 */
int scratch_prepare(struct scratch *s, const struct model *target, struct error *err);

/* Loads statements in order; a failure is "FILE:LINE: PostgreSQL's message" (-EBADMSG). */
int scratch_load(struct scratch *s, const char *file, const struct migrate_statement *st,
		 size_t n, struct error *err);

/*
 * Runs `sh -c command` against the scratch database: DATABASE_URL and PGHOST,
 * PGPORT, PGDATABASE, PGUSER (PGPASSWORD when the scratch DSN has one) are
 * set; its standard output goes to standard error.  Non-zero exit: -EBADMSG.
 */
int scratch_run_command(struct scratch *s, const char *command, struct error *err);

/* Warnings collected so far (extensions not available, versions not available...). */
size_t scratch_warnings(const struct scratch *s, const char *const **ret);

/* Drops the database or stops and removes the cluster.  Idempotent and safe to
 * call from another thread while the scratch is in use (a signal's cleanup). */
void scratch_cleanup(struct scratch *s);
/* scratch_cleanup(), then frees s.  Accepts NULL. */
void scratch_free(struct scratch *s);

#endif
