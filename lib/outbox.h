/* Durable alert outbox: a spool of (alert, channel) entries, delivered with retries on a loop. */
#ifndef SCHEMADRIFT_OUTBOX_H
#define SCHEMADRIFT_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "ini.h"
#include "error.h"
#include "notify.h"

/*
 * Layout of the spool directory DIR (docs/outbox.md):
 *   DIR/lock        flock()ed by the one process that owns the spool
 *   DIR/queue/      one file per (alert, channel), written and fsync'd before
 *                   outbox_enqueue() returns, removed once the channel
 *                   answered NOTIFY_DELIVERED
 *   DIR/dead/       entries given up (permanent failure or max age), with why
 *   DIR/corrupt/    files found in queue/ that could not be parsed
 *
 * Delivery is at least once: every entry carries its alert, whose id is the
 * idempotency key the channels send (webhook-id), so a receiver can drop the
 * duplicate a crash between "delivered" and "removed" may cause.  Entries of
 * one (target, channel) pair are delivered in the order they were enqueued:
 * while one waits for a retry, the later ones wait behind it.
 */

struct outbox;

enum outbox_event_kind {
	OUTBOX_DELIVERED,   /* the channel accepted it and its spool file is gone */
	OUTBOX_RETRYING,    /* a retryable failure; next attempt at next_attempt_ms */
	OUTBOX_GAVE_UP,     /* permanent failure or max age reached: moved to dead/ */
	OUTBOX_DROPPED,     /* deleted to keep the spool within its cap (drop policy) */
	OUTBOX_CORRUPT,     /* a spool file could not be read: moved to corrupt/ */
	OUTBOX_UNROUTABLE,  /* at open: entries for a channel that is not configured */
};

/* Valid only during the callback. */
struct outbox_event {
	enum outbox_event_kind kind;
	const char *alert_id; /* NULL for CORRUPT and UNROUTABLE */
	const char *channel;  /* NULL for CORRUPT */
	const char *target;   /* NULL for CORRUPT and UNROUTABLE */
	const char *path;     /* the spool file, or where it was moved (dead/, corrupt/) */
	unsigned attempts;    /* deliveries tried so far */
	int64_t next_attempt_ms;            /* RETRYING */
	const struct notify_result *result; /* the channel's last answer, or NULL */
	const char *reason;   /* one line: why it was given up, dropped, moved aside */
	size_t count;         /* UNROUTABLE: how many entries */
};

/* Called on the loop's thread (CORRUPT and UNROUTABLE also from outbox_open()).  It may
 * call outbox_enqueue(), outbox_kick() and outbox_get_stats(), not outbox_close(). */
typedef void (*outbox_event_fn)(const struct outbox_event *ev, void *arg);

struct outbox_options {
	/* Wall-clock milliseconds since the epoch (entry ages survive restarts);
	 * NULL: CLOCK_REALTIME.  Tests pass a fake clock and call outbox_kick(). */
	int64_t (*now)(void *arg);
	void *now_arg;
	/* Retry n (n >= 1) waits min(cap, base * factor^(n-1)) * U(1 - jitter, 1],
	 * and at least the channel's Retry-After. */
	int64_t backoff_base_ms;
	double backoff_factor;
	int64_t backoff_cap_ms;
	double jitter;            /* 0 .. 1 */
	uint64_t seed;            /* jitter's random sequence; 0: from the clock and pid */
	int64_t max_age_ms;       /* an entry this old is given up before its next attempt */
	size_t max_entries;       /* spool cap; beyond it the drop policy applies */
	size_t max_bytes;         /* spool cap on the entries' file sizes */
	unsigned concurrency;     /* deliveries in flight per channel */
	outbox_event_fn on_event;
	void *arg;
};

/* Defaults: 5 s base, factor 2, 10 min cap, 20 % jitter, 24 h max age,
 * 10,000 entries, 64 MiB, 4 per channel. */
void outbox_options_init(struct outbox_options *o);

/*
 * The [daemon] section's outbox_* keys (docs/outbox.md): outbox_max_age,
 * outbox_max_entries, outbox_max_bytes, outbox_concurrency,
 * outbox_backoff_base, outbox_backoff_cap.  Other keys are left alone (the
 * section belongs to the daemon).  Errors name file:line.
 */
int outbox_options_from_conf(struct outbox_options *o, const struct ini_section *daemon,
			     struct error *err);

/*
 * Opens (creating) the spool in dir, takes its lock (-EBUSY if another process
 * holds it), reads every entry back (moving unreadable ones to corrupt/) and
 * starts delivering on env->base.  Channels are borrowed and must outlive the
 * outbox; entries are routed by channel name.
 */
int outbox_open(const char *dir, const struct outbox_options *opts, struct notify_env *env,
		struct notify_channel *const *channels, size_t n_channels, struct outbox **ret,
		struct error *err);

/*
 * Spools one entry per named channel (n == 0: every channel), each on disk and
 * fsync'd before this returns, dropping older entries first if the cap is
 * reached (OUTBOX_DROPPED events).  Delivery starts from the loop, never from
 * inside this call.  -ENOENT names an unknown channel (nothing spooled); an
 * I/O error spools nothing more but keeps what was written (err says which).
 */
/* An entry file's text (named path in errors) whose name says seq want_seq: its
 * JSON and (optional) alert, both the caller's.  -EBADMSG says what is wrong. */
int outbox_entry_parse(const char *text, size_t len, const char *path, uint64_t want_seq,
		       json_t **ret_json, struct alert **ret_alert, struct error *err);

int outbox_enqueue(struct outbox *ob, const struct alert *a, const char *const *channels,
		   size_t n, struct error *err);

/* Re-examines the queues now (after the clock moved, in tests). */
void outbox_kick(struct outbox *ob);

struct outbox_stats {
	size_t entries, bytes; /* in queue/ */
	size_t in_flight;
	size_t unroutable;     /* entries for channels that are not configured */
	size_t removing;       /* delivered, file removal pending on the I/O thread */
	size_t dead;           /* entries in dead/, given up (kept until someone acts) */
	int64_t oldest_ms;     /* wall-clock enqueue time of the oldest in queue/; 0: none */
	uint64_t delivered, retries, given_up, dropped, corrupt; /* since open */
};
void outbox_get_stats(const struct outbox *ob, struct outbox_stats *ret);

/*
 * Stops delivering and frees the outbox; entries stay in the spool (the next
 * outbox_open() on it delivers them, those in flight now again: at least
 * once).  Sends in flight are orphaned: a done callback that comes later only
 * frees its own memory, so channels may outlive the outbox, or be freed
 * (dropping their sends, notify.h) whenever.  Finishes the removal of
 * delivered entries' files before returning.  Not from an on_event callback.
 */
void outbox_close(struct outbox *ob);

#endif
