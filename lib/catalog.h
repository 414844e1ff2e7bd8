/* Reads pg_catalog into a model: pipelined set-based queries in one read-only transaction. */
#ifndef SCHEMADRIFT_CATALOG_H
#define SCHEMADRIFT_CATALOG_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "error.h"
#include "model.h"

struct catalog_options {
	int lock_timeout_ms;      /* 0: default (1000) */
	int statement_timeout_ms; /* 0: default (60000) */
	int max_attempts;         /* 0: default (4); retries on concurrent-DDL errors */
	/* Report every partition's columns, constraints, indexes and triggers,
	 * instead of once at the partitioned parent (the default). */
	bool partitions_full;
	/* Only the change probe: the model has no objects, just its fingerprint. */
	bool probe_only;
	/* The DDL recorder's rows from this time on (ISO 8601 UTC; NULL: all
	 * it keeps, at most 5000). */
	const char *recorder_since;
};

/* What catalog_read_step() needs before it is called again. */
enum {
	CATALOG_DONE = 0,
	CATALOG_WANT_READ = 1,
	CATALOG_WANT_WRITE = 2,
};

struct catalog_read;

/*
 * conn must be connected (CONNECTION_OK), idle, and is used non-blocking in
 * pipeline mode; the reader borrows it and leaves it idle when done.
 */
int catalog_read_new(PGconn *conn, const struct catalog_options *opts,
		     struct catalog_read **ret);
void catalog_read_free(struct catalog_read *r);

/*
 * Advances as far as the socket allows.  Returns CATALOG_DONE when the model
 * is complete, a mask of CATALOG_WANT_READ/WRITE to be called again when the
 * socket is ready, or a negative code with err filled.
 */
int catalog_read_step(struct catalog_read *r, struct error *err);

/* After CATALOG_DONE: hands over the finished (sorted, unhashed) model. */
struct model *catalog_read_take_model(struct catalog_read *r);

/* How many attempts the last read took, and statements sent in all. */
int catalog_read_attempts(const struct catalog_read *r);
int catalog_read_statements(const struct catalog_read *r);

/*
 * The catalog queries for a server version, for the benchmark's bare read:
 * returns the i-th query text or NULL past the end.
 */
const char *catalog_query_text(int server_version, int i);

#endif
