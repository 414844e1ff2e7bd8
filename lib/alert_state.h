/* Alert policy per target: drift dedup, reminders, error outages and recoveries, persisted. */
#ifndef SCHEMADRIFT_ALERT_STATE_H
#define SCHEMADRIFT_ALERT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "error.h"

/*
 * One struct alert_state per monitored target.  Every check of the target is
 * one observation: alert_state_observe_ok() when a snapshot was taken (with the
 * baseline and current hashes), alert_state_observe_error() when the target
 * could not be monitored.  Each observation yields zero, one or two events
 * (docs/outbox.md, "Alert policy"):
 *
 *   - a drift state (target, baseline hash, current hash) alerts once;
 *   - while it lasts, a reminder every repeat_interval_s after the last alert;
 *   - when it ends (schema back to the baseline, or the baseline accepted), one
 *     recovered alert;
 *   - error_threshold consecutive failures alert once per outage; the first
 *     success after that alerts recovered.
 *
 * The logic is pure: time is a parameter.  Callers persist the state with
 * alert_state_save() after handing the events' alerts to the outbox (enqueue
 * first, then save: a crash in between repeats an alert, never loses one).
 */

#define ALERT_STATE_HASH_MAX 64 /* hex SHA-256 */
#define ALERT_STATE_MAX_EVENTS 3 /* error recovered + drift recovered + new drift */

struct alert_state_options {
	int64_t repeat_interval_s; /* reminder while a drift lasts; 0: never */
	unsigned error_threshold;  /* consecutive failures before an error alert; 0 acts as 1 */
};

enum alert_state_event_kind {
	ALERT_STATE_DRIFT,           /* a drift state not alerted yet */
	ALERT_STATE_REMINDER,        /* the same drift state, repeat interval elapsed */
	ALERT_STATE_DRIFT_RECOVERED, /* the drift ended */
	ALERT_STATE_ERROR,           /* error_threshold consecutive failures */
	ALERT_STATE_ERROR_RECOVERED, /* the target could be monitored again after an error alert */
};

enum alert_state_reason {
	ALERT_STATE_REASON_NONE,
	ALERT_STATE_REASON_BACK_TO_BASELINE,  /* current hash equals the incident's baseline */
	ALERT_STATE_REASON_BASELINE_ACCEPTED, /* the baseline changed (accepted or replaced) */
	ALERT_STATE_REASON_BASELINE_REMOVED,  /* no baseline any more: nothing to drift from */
};

struct alert_state_event {
	enum alert_state_event_kind kind;
	enum alert_state_reason reason;       /* DRIFT_RECOVERED only */
	unsigned long incident;               /* per-target incident number: the dedup key */
	char baseline[ALERT_STATE_HASH_MAX + 1]; /* drift events: the incident's baseline */
	char current[ALERT_STATE_HASH_MAX + 1];  /* drift events: the hash now */
	int64_t since;      /* when the drift was first alerted or the outage began */
	unsigned failures;  /* error events: consecutive failures so far */
	unsigned reminders; /* REMINDER: how many reminders including this one */
};

/* Read-only for callers; changed by observations and alert_state_load(). */
struct alert_state {
	char *target;
	/* Set by the caller: this state follows verify (live schema against the
	 * repository's: kind mismatch, dedup keys ":mismatch:N" and
	 * ":verify-error:N"), not drift from the baseline. */
	bool mismatch;
	unsigned long incidents; /* incidents opened so far; numbers the next one */

	bool drift;              /* a drift alert was sent and has not recovered */
	unsigned long drift_incident;
	char baseline[ALERT_STATE_HASH_MAX + 1]; /* the incident's baseline */
	char current[ALERT_STATE_HASH_MAX + 1];  /* the drift state last alerted */
	int64_t drift_since;     /* first alert of the incident */
	int64_t drift_last_sent; /* last drift alert or reminder */
	unsigned reminders;

	unsigned failures;       /* consecutive failed observations */
	int64_t failing_since;   /* the first of them */
	bool error;              /* an error alert was sent for this outage */
	unsigned long error_incident;

	/* What the notices outside drift and errors last said (the daemon's
	 * `upgraded` and `recorder` notices), kept with the rest so that a
	 * restart or a takeover does not say it again.  0: not known; the
	 * values are the caller's.  Saved as "notices". */
	int server_major;        /* the server's major version last seen */
	int recorder;            /* the DDL recorder's state last seen */
};

int alert_state_new(const char *target, struct alert_state **ret);
void alert_state_free(struct alert_state *st);

/*
 * A snapshot was taken: baseline (NULL when the target has none yet) and
 * current are snapshot hashes (1..64 characters of [0-9A-Za-z]).  Fills
 * events[0..*ret_n) and returns 1 when the state changed (save it), 0 when it
 * did not, -EINVAL for a malformed hash (state untouched).
 */
int alert_state_observe_ok(struct alert_state *st, const struct alert_state_options *o,
			   const char *baseline, const char *current, int64_t now,
			   struct alert_state_event events[ALERT_STATE_MAX_EVENTS], size_t *ret_n);
/* The target could not be monitored; same return convention. */
int alert_state_observe_error(struct alert_state *st, const struct alert_state_options *o,
			      int64_t now, struct alert_state_event events[ALERT_STATE_MAX_EVENTS],
			      size_t *ret_n);

/*
 * The alert for an event: kind, target, hashes, dedup_key
 * ("schemadrift:TARGET:drift:N" / ":error:N", the same for an incident's
 * alert, reminders and recovery) and a message.  `message` is the caller's
 * text for ALERT_STATE_ERROR (the last error), and with st->mismatch for
 * ALERT_STATE_DRIFT too; ignored otherwise.  The caller
 * adds the diff (alert_set_diff) to drift alerts and reminders, the
 * environment and the link.
 */
int alert_state_alert_new(const struct alert_state *st, const struct alert_state_event *ev,
			  const char *message, struct alert **ret);

/*
 * The same for a target's check findings, observed through a second
 * alert_state of their own (docs/checks.md): baseline "none", current a hash
 * of the unacknowledged findings' keys ("none" when there are none).  Kind
 * check for a new set of findings and its reminders (the caller adds the
 * findings), recovered when none are left; dedup keys
 * "schemadrift:TARGET:check:N" and ":check-error:N" for runs that failed.
 */
int alert_state_check_alert_new(const struct alert_state *st, const struct alert_state_event *ev,
				const char *message, struct alert **ret);

/*
 * Persistence: one small JSON file per target in dir (docs/outbox.md), written
 * atomically.  Loading a target without a file gives a fresh state; a file that
 * cannot be parsed is -EBADMSG with the file name in err (the caller decides to
 * start fresh).
 */
int alert_state_load(const char *dir, const char *target, struct alert_state **ret,
		     struct error *err);
int alert_state_save(const struct alert_state *st, const char *dir, struct error *err);
/* The state as one line of JSON (the file's content, compact), malloc'd; NULL: out of memory. */
char *alert_state_dump(const struct alert_state *st);
/* The state of target from text (a file's or alert_state_dump()'s); errors name origin. */
int alert_state_parse(const char *target, const char *text, size_t len, const char *origin,
		      struct alert_state **ret, struct error *err);
/*
 * The same through the target's store: sub NULL for the drift alert state,
 * "checks" or "verify" for theirs.  The file store keeps them where
 * alert_state_load() and _save() do (<store dir>[/sub]/<target>.json); the
 * central store keeps them in its tables, shared by every daemon.
 */
struct store;
int alert_state_load_store(struct store *s, const char *sub, struct alert_state **ret,
			   struct error *err);
int alert_state_save_store(const struct alert_state *st, struct store *s, const char *sub,
			   struct error *err);
/* The file that holds target's state in dir (malloc'd), or NULL when out of memory. */
char *alert_state_path(const char *dir, const char *target);
/* Its name alone: the target's name with anything but [A-Za-z0-9._-] (and a leading
 * dot) percent-encoded, the first letter too when the name is one the file store
 * uses for its own files (baseline, acks, retention, checks), plus ".json". */
char *alert_state_file_name(const char *target);

#endif
