/* Snapshots of a live database: async connect + catalog read on a libevent base. */
#ifndef SCHEMADRIFT_LIVE_H
#define SCHEMADRIFT_LIVE_H

#include <stdbool.h>

#include <event2/event.h>

#include "catalog.h"
#include "error.h"
#include "filter.h"
#include "model.h"

struct live_options {
	const char *dsn;         /* libpq conninfo or URI, incl. service= */
	int connect_timeout_ms;  /* 0: default (10000); enforced by a loop timer */
	struct catalog_options catalog;
	const struct filter *filter; /* applied before hashing; NULL: keep everything */
	const char *password;    /* from a file or credential; never part of the DSN text */
	/* A connected, idle connection to reuse (the daemon's pool): the snapshot
	 * takes it over; live_snapshot_take_conn() hands it back when healthy. */
	PGconn *conn;
	/* Client-side deadline for the catalog read (0: none): a query still
	 * running then is cancelled (PQcancel) and the snapshot fails. */
	int read_timeout_ms;
};

struct live_snapshot;

/* Called once; takes ownership of model (NULL on failure, err filled). */
typedef void (*live_done_fn)(struct model *model, const struct error *err, void *arg);

int live_snapshot_start(struct event_base *base, const struct live_options *opts,
			live_done_fn done, void *arg, struct live_snapshot **ret);
/* Cancels if still running (done is not called). Accepts NULL. */
void live_snapshot_free(struct live_snapshot *s);

/* After done: the connection, if it is healthy and idle, for reuse; the caller
 * owns it (PQfinish).  NULL otherwise. */
PGconn *live_snapshot_take_conn(struct live_snapshot *s);

/* Runs one snapshot on a private event base (the CLI). Model is hashed. */
int live_snapshot_run(const struct live_options *opts, struct model **ret, struct error *err);

/* "host=/tmp/x port=5432 dbname=app user=bob", never the password. */
void live_describe_dsn(const char *dsn, char *buf, size_t size);

/* Whether dsn holds a password: password= in any case, a URI's user:password@ or
 * ?password=.  Works on text libpq cannot parse (the daemon refuses these). */
bool live_dsn_has_password(const char *dsn);
/*
 * The one redaction for libpq's messages: replaces every secret of dsn (as
 * written, %-decoded, with or without its quotes) and password (may be NULL)
 * in text with "***", then applies the escaping rule (utf8.h).  libpq quotes
 * the token it could not parse, and that token may be the password.
 */
void live_redact(const char *dsn, const char *password, char *text, size_t size);

#endif
