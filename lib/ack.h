/* Acknowledgements: accepted differences, object by object, until the object changes again or the ack expires. */
#ifndef SCHEMADRIFT_ACK_H
#define SCHEMADRIFT_ACK_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "diff.h"
#include "error.h"
#include "model.h"
#include "store.h"

/* One acknowledged object and the state it was acknowledged in. */
struct ack_object {
	enum model_kind kind;
	char *schema, *parent, *name, *signature; /* identity; NULL when absent */
	char *label;             /* the name diff prints: "public.orders_idx" */
	bool present;            /* false: acknowledged as absent (a removal) */
	unsigned char state[32]; /* ack_object_state() at the time, when present */
};

struct ack {
	char id[9];              /* 8 hex digits */
	char *pattern;           /* as given: "[KIND:]GLOB" */
	char *reason;
	char *who;
	time_t created;
	time_t expires;          /* 0: never */
	struct ack_object *objects;
	size_t n_objects;
	/* A "check:GLOB" ack: the check findings' keys it covers (docs/checks.md). */
	char **findings;
	size_t n_findings;
};

struct ack_set {
	struct ack *acks;
	size_t n;
};

/* The target's acknowledgements (an empty set when there are none). */
int ack_load(struct store *s, struct ack_set **ret, struct error *err);
void ack_set_free(struct ack_set *a);
void ack_free(struct ack *a);

/*
 * What an acknowledgement pins: the object's hash, and for a table, view or
 * materialized view also the hashes of its columns, constraints and indexes
 * (diff folds those into an added or removed relation, so a further change
 * to them must end the acknowledgement too).
 */
void ack_object_state(const struct model *m, const struct model_object *o, unsigned char out[32]);

/*
 * Acknowledges the current drift (baseline -> latest snapshot) of every
 * object whose name, as diff prints it, matches pattern: "[KIND:]GLOB"
 * (fnmatch(3); KIND as in snapshots, e.g. "index:public.*_tmp").  -ENOENT
 * when no drifting object matches; expires 0 is never.  Audit-logged.
 * ret (may be NULL) gets the new ack; free it with ack_free().
 */
int ack_add(struct store *s, const char *pattern, const char *who, const char *reason,
	    time_t expires, struct ack **ret, struct error *err);

/*
 * A pattern "check:GLOB" acknowledges the target's current check findings
 * (the daemon's last run, checks.json) whose key ("fk-index:public.t.fk")
 * matches GLOB: they raise no check alert until the ack expires or is
 * removed.  -ENOENT when none matches.
 */
#define ACK_CHECK_PREFIX "check:"
/* Whether an unexpired ack covers the finding with that key. */
bool ack_covers_finding(const struct ack_set *a, const char *key, time_t now);

/* Removes the ack with that id, or every ack with exactly that pattern (-ENOENT if none). */
int ack_remove(struct store *s, const char *id_or_pattern, const char *who, const char *reason,
	       size_t *ret_removed, struct error *err);

/*
 * Marks (diff_acknowledge) each change of d whose object an unexpired ack
 * covers in exactly its state in d->to.  Reasons are borrowed from a.
 * Returns how many changes were marked.
 */
size_t ack_apply(const struct ack_set *a, struct diff *d, time_t now);

/* Whether the object is still in its acknowledged state in m. */
bool ack_object_current(const struct ack_object *o, const struct model *m);

bool ack_expired(const struct ack *a, time_t now);

#endif
