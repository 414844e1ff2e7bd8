/* Alerts: what an on-call engineer is told, independent of the channel that carries it. */
#ifndef SCHEMADRIFT_ALERT_H
#define SCHEMADRIFT_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "diff.h"
#include "error.h"

/* ALERT_MISMATCH: verify: the database is not what the repository says.
 * ALERT_UPGRADED: the server's major version changed (a notice, not drift).
 * ALERT_RECORDER: the DDL recorder was disabled or removed (a warning). */
enum alert_kind { ALERT_DRIFT, ALERT_CHECK, ALERT_ERROR, ALERT_RECOVERED, ALERT_TEST,
		  ALERT_MISMATCH, ALERT_UPGRADED, ALERT_RECORDER };

/*
 * One change, as text ready for rendering (values via model_value_text).
 * Every string is valid UTF-8; object names have control characters as \xHH
 * (one line); before/after keep newlines and tabs (view definitions) and are
 * cut to ALERT_VALUE_MAX bytes (ending in "…" when cut).  Renderers escape.
 */
struct alert_change {
	char *change;    /* "added" | "removed" | "modified" | "renamed" */
	char *severity;  /* "breaking" | "warning" | "info" */
	char *kind;      /* "column" */
	char *object;    /* "public.orders.total" */
	char *attribute; /* NULL unless modified */
	char *before, *after; /* NULL unless modified */
	char *renamed_from;   /* renamed only: the old name, like object */
	/* What an added or removed object is (lib/sql.h), or NULL; layout kept,
	 * cut like before/after. */
	char *definition;
	/* SQL that reverts this change (a suggestion, never run), or NULL; cut
	 * like before/after. */
	char *revert_sql;
	/* Who made it (docs/attribution.md): "by ROLE from ADDR (APP) at TIME:
	 * STATEMENT", or a sentence saying no recorder row matched; NULL when
	 * the database has no DDL recorder.  One line, escaped. */
	char *attribution;
};

/* Owns every string.  Serialisable (alert_to_json/alert_from_json) for the outbox. */
struct alert {
	char *id;          /* unique, stable across retries: the idempotency key */
	enum alert_kind kind;
	char *target;
	char *environment; /* "production"; NULL if unset */
	enum diff_severity severity;
	time_t created;
	size_t by_type[4];     /* added, removed, modified, renamed (enum diff_change_type) */
	size_t by_severity[3]; /* info, warning, breaking */
	size_t total_changes;
	struct alert_change *changes; /* the most severe first, at most ALERT_MAX_CHANGES */
	size_t n_changes;
	char *from_hash, *to_hash; /* NULL when not applicable */
	char *message;   /* error text, check details, the upgrade, or the test message */
	char *link;      /* from the configured URL template, or NULL */
	char *dedup_key; /* the drift/error state this alert belongs to (PagerDuty dedup_key) */
	/* On drift: how to turn attribution on (no recorder), or what is wrong
	 * with the recorder; NULL when it records.  On a recorder alert too. */
	char *attribution;
};

#define ALERT_MAX_CHANGES 100
/* Bytes of a statement in a change's attribution. */
#define ALERT_WHO_STATEMENT_MAX 300
#define ALERT_VALUE_MAX 1024
/* Version of alert_to_json()'s format (the outbox's files). */
#define ALERT_JSON_VERSION 1

const char *alert_kind_name(enum alert_kind k);
int alert_kind_from_name(const char *name, enum alert_kind *ret);

/*
 * A new alert with a random 32-hex-digit id, created = now, and the kind's
 * default severity (drift, recovered, test: info; check: warning; error:
 * breaking).  target is copied (NULL is allowed for a test alert).
 */
int alert_new(enum alert_kind kind, const char *target, struct alert **ret);
void alert_free(struct alert *a);

/* Fills counts, severity (the highest) and the top changes from a diff, and
 * the snapshot hashes when the models are hashed.  Acknowledged changes
 * (diff_acknowledge) are left out: they raise no alert. */
int alert_set_diff(struct alert *a, const struct diff *d);
/* Same from `schemadrift diff --format json` output (docs/diff-format.md). */
int alert_set_diff_json(struct alert *a, json_t *diff, struct error *err);

/* Replaces a string field with a copy of s (NULL clears it); invalid UTF-8
 * bytes become \xHH, so any server message is safe to store.  -ENOMEM. */
int alert_set_str(char **field, const char *s);

/*
 * Expands a URL template into a->link: {target}, {environment}, {kind}, {id},
 * {from_hash}, {to_hash} and {dedup_key} are replaced by the percent-encoded
 * value (empty when unset); "{{" is a literal "{".  The template must start
 * with https:// or http://.  -EINVAL with a message naming the placeholder.
 */
int alert_set_link(struct alert *a, const char *url_template, struct error *err);
/* Whether alert_set_link() would accept url_template (for config checks). */
int alert_link_check(const char *url_template, struct error *err);

/* One line for humans: "Schema drift on billing (production): 3 changes (1 breaking, 2 info)".
 * Control characters become spaces.  malloc'd; NULL on ENOMEM. */
char *alert_headline(const struct alert *a);

/*
 * What resolves a drift alert, one line each: `schemadrift baseline accept
 * TARGET --reason '...'`, then `schemadrift ack TARGET KIND:OBJECT --reason
 * '...'` for at most max_acks of the listed objects.  Names are shell-quoted
 * and hold no control characters.  *ret NULL for other kinds or no changes;
 * 0 or -ENOMEM.
 */
int alert_resolve_lines(const struct alert *a, size_t max_acks, char ***ret, size_t *ret_n);
void alert_resolve_lines_free(char **lines, size_t n);
/* The note that goes with revert SQL wherever it is shown. */
#define ALERT_REVERT_NOTE \
	"Suggested SQL to revert it: review it before running it; schemadrift never runs it."

/* The outbox format, version ALERT_JSON_VERSION (by_type with 3 counts, from
 * before renames, is still read).  New reference; NULL on ENOMEM. */
json_t *alert_to_json(const struct alert *a);
int alert_from_json(json_t *j, struct alert **ret, struct error *err);

#endif
