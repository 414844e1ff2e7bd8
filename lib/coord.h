/* Coordination of several daemons through PostgreSQL: nodes, target leases, shared alert state. */
#ifndef SCHEMADRIFT_COORD_H
#define SCHEMADRIFT_COORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * The tables live in their own schema of the coordination database
 * (COORD_SCHEMA), made and migrated by coord_round() on first use, under a
 * transaction-level advisory lock so that daemons starting together migrate
 * once (docs/operations.md, "Several daemons"):
 *
 *   version(version)                 the migrations applied
 *   nodes(node, heartbeat, ...)      one row per daemon; live while its
 *                                    heartbeat is younger than lease_timeout
 *   leases(target, node, expires...) who checks a target, until when
 *   target_state(target, ...)        the alert state and baseline snapshot the
 *                                    holder last wrote, for the next holder
 *
 * Leases are taken and renewed by one INSERT ... ON CONFLICT DO UPDATE ...
 * WHERE (the holder is us, or the lease expired) RETURNING: the row lock of
 * ON CONFLICT decides between two daemons that want the same target, and the
 * expiry is the database's clock, never ours.
 *
 * Every function here blocks (libpq's synchronous API): they run on a worker
 * thread (daemon/fleet.c), never on the loop.  A struct coord is used by one
 * thread at a time.
 */
#define COORD_SCHEMA "schemadrift_coord"
#define COORD_SCHEMA_VERSION 1

struct coord;

struct coord_options {
	const char *dsn;
	const char *password; /* NULL: none (or a .pgpass, a service file) */
	const char *node;     /* this daemon's name */
	int connect_timeout_ms;
	int64_t lease_timeout_ms;
};

/* Copies o's strings; connects on the first round. */
int coord_new(const struct coord_options *o, struct coord **ret);
/* Closes the connection; the password copy is wiped. */
void coord_free(struct coord *c);

/* The shared state of one target, as written by its holder. */
struct coord_target_state {
	char *alert_state;    /* alert_state_dump()'s text; NULL: none written */
	char *baseline_hash;  /* NULL: none published */
	unsigned char *baseline; /* the snapshot file's bytes */
	size_t baseline_len;
	char *node;           /* the daemon that wrote it last */
};
void coord_target_state_done(struct coord_target_state *s);

/* What the loop hands to one round (copies: the round runs on another thread). */
struct coord_write {
	char *target;
	char *alert_state;    /* NULL: no alert state to write */
	char *baseline_hash;  /* NULL: no baseline to publish */
	char *baseline_path;  /* the snapshot file to read for baseline_hash */
};

struct coord_round_in {
	char **targets;    /* every target this daemon is configured for */
	bool *held;        /* held by us before this round (the loop's view) */
	bool *busy;        /* a run, check run or verify run in flight: kept while held,
	                    * even if another node should have it */
	size_t n;
	struct coord_write *writes;
	size_t n_writes;
	/* The daemon stops: after the writes, every lease of ours is released and our
	 * node row deleted, so the others take our targets at their next round. */
	bool leaving;
};

struct coord_round_out {
	bool *held;        /* [n]: ours after this round, until the lease would expire */
	char **holder;     /* [n]: the node holding the lease (NULL: none) */
	char **owner;      /* [n]: the live node that should hold it (rendezvous) */
	/* [n]: for targets newly held, what the last holder wrote */
	struct coord_target_state *state;
	size_t live_nodes;
	uint64_t taken_over; /* leases taken this round that another node held */
	size_t writes_refused; /* writes for targets another node holds meanwhile */
	unsigned queries;  /* statements sent, for the coordination query rate */
	bool migrated;     /* this round applied the schema migration */
	/* [n_unpublished = in->n_writes]: why the write's baseline was not published
	 * (its snapshot file could not be read), NULL when it was or had none. */
	char **unpublished;
	size_t n_unpublished;
};

/*
 * One round: (re)connect and migrate when needed, heartbeat, write what the
 * loop queued (only where no other node holds a live lease), read the live
 * nodes, pick this node's targets by rendezvous hashing over them, release
 * the leases of the others (unless busy), take or renew ours, and read the
 * shared state of those newly held.  On failure the connection is dropped
 * (the next round reconnects); ret is filled only on success.
 */
int coord_round(struct coord *c, const struct coord_round_in *in, struct coord_round_out *ret,
		struct error *err);
void coord_round_out_done(struct coord_round_out *o, size_t n);

/* The rendezvous (highest random weight) choice: the index in nodes[0..n) that
 * target belongs to, or -1 when n is 0.  The same on every daemon, and a node
 * joining or leaving moves only the targets it wins or held. */
long coord_rendezvous(char *const *nodes, size_t n, const char *target);

#endif
