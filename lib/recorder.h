/* The DDL recorder: an event trigger that logs who ran which DDL, its install, and attribution. */
#ifndef SCHEMADRIFT_RECORDER_H
#define SCHEMADRIFT_RECORDER_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "diff.h"
#include "error.h"
#include "model.h"

/*
 * Not to be confused with the store's audit log (store_audit.c), which records
 * what schemadrift's own users did (baseline accepts, acks).  The recorder
 * lives in the monitored database and records what the database's users did.
 * docs/attribution.md.
 */

#define RECORDER_DEFAULT_SCHEMA "schemadrift"
/* Event trigger names are database-wide: one recorder per database. */
#define RECORDER_DDL_TRIGGER "schemadrift_recorder_ddl"
#define RECORDER_DROP_TRIGGER "schemadrift_recorder_drop"
/* The comment on the writer function: how the catalog reader recognises a
 * recorder (a table ddl_log and a function recorder_write in one schema). */
#define RECORDER_MARK "schemadrift DDL recorder"

struct recorder_install_options {
	const char *schema;        /* NULL: RECORDER_DEFAULT_SCHEMA */
	const char *retention;     /* a PostgreSQL interval; NULL: "30 days" */
	int statement_length;      /* bytes of current_query() kept; 0: no statement text */
	const char *grant_role;    /* the monitoring role given SELECT; NULL: none */
};

/*
 * Installs (or re-installs, keeping the rows) the recorder in one
 * transaction: the schema, the table, the two functions, the two event
 * triggers, the grant.  Missing rights give an error saying which are needed.
 */
int recorder_install(PGconn *conn, const struct recorder_install_options *opts, struct error *err);
/* Drops the event triggers and the schema with its rows; -ENOENT when absent. */
int recorder_uninstall(PGconn *conn, const char *schema, struct error *err);

struct recorder_status {
	bool installed;          /* the schema holds the recorder's table and writer */
	char ddl_trigger[16];    /* "always", "origin", "disabled", ... or "" when missing */
	char drop_trigger[16];
	long long rows;
	char oldest[32], newest[32]; /* ISO 8601 UTC, "" without rows */
	char settings[256];      /* the writer's settings: retention, statement length */
	char readers[256];       /* roles that may read the table, comma-separated */
};

int recorder_status(PGconn *conn, const char *schema, struct recorder_status *ret,
		    struct error *err);

#endif
