/* The DDL recorder: an event trigger that logs who ran which DDL, its install, and attribution. */
#ifndef SCHEMADRIFT_RECORDER_H
#define SCHEMADRIFT_RECORDER_H

#include <stdbool.h>

#include <libpq-fe.h>

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
	int statement_length;      /* characters of current_query() kept; 0: no statement text */
	const char *grant_role;    /* the monitoring role given SELECT; NULL: none */
};

/*
 * Installs (or re-installs, keeping the rows) the recorder in one
 * transaction: the schema, the table, the two functions, the two event
 * triggers, the grant.  Missing rights give an error saying which are needed;
 * a schema that exists and holds no recorder, or one of another owner, is
 * refused.
 */
int recorder_install(PGconn *conn, const struct recorder_install_options *opts, struct error *err);
/* Drops the event triggers, the functions and the table with its rows, then
 * the schema when nothing else is in it (*schema_kept: it was not empty);
 * -ENOENT when absent. */
int recorder_uninstall(PGconn *conn, const char *schema, bool *schema_kept, struct error *err);

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

/*
 * Rows up to this many seconds older than `since` still count: `since` is
 * the daemon's clock (a snapshot's taken_at), a row's time the server's
 * clock_timestamp(), and a skew between the two must not make a change
 * unattributed.  Both the read (catalog_recorder_sql) and the match use it.
 */
#define RECORDER_CLOCK_MARGIN_S 300

/*
 * The newest row of the recorder's log about an object (before, after: its
 * two sides; either may be NULL), at or after since less
 * RECORDER_CLOCK_MARGIN_S (ISO 8601 UTC; NULL: any): a row naming the object itself wins over one
 * naming its table (a column, constraint, index, trigger, rule, policy or
 * statistics object changed by ALTER TABLE, or created with its table).
 * NULL when no row matches.  Borrows from recorder.
 */
const struct model_ddl_event *recorder_match(const struct model_recorder *recorder,
					     const struct model_object *before,
					     const struct model_object *after, const char *since);

/* "by ROLE [as ROLE] from ADDR (APP) at TIME: STATEMENT", one line (white
 * space collapsed, the statement cut to max_statement bytes), escaped for a
 * terminal (utf8.h).  malloc'd; NULL on ENOMEM. */
char *recorder_who_text(const struct model_ddl_event *e, size_t max_statement);

/* Whether an event trigger in this enabled state ("origin", "always",
 * "replica", "disabled"; NULL or "" when missing) fires for ordinary
 * sessions: "replica" fires only under session_replication_role = replica. */
bool recorder_trigger_records(const char *state);

/* Why a recorder records nothing (a disabled or missing event trigger, a
 * table the reading role may not read), one sentence; NULL when it records. */
const char *recorder_problem(const struct model_recorder *recorder);

/* A change no recorder row names: itself a signal. */
#define RECORDER_UNATTRIBUTED \
	"unattributed: no DDL recorder row names this object (changed with the recorder " \
	"disabled, bypassed, or before its retention)"

/* How to turn attribution on, for where it is off (alerts, docs). */
#define RECORDER_HOW_TO_ENABLE \
	"Attribution is off: `schemadrift audit install --dsn DSN --grant MONITORING_ROLE` " \
	"records who makes each DDL change (docs/attribution.md)."

#endif
