/* One monitored database's run (target.c), and what it needs from the daemon that runs it. */
#ifndef SCHEMADRIFT_TARGET_H
#define SCHEMADRIFT_TARGET_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "alert_state.h"
#include "config.h"
#include "filter.h"
#include "live.h"
#include "outbox.h"
#include "schedule.h"
#include "store.h"

struct target;

/*
 * What a target is given by whoever runs it (the daemon), instead of
 * reaching back into it by name: the loop, the settings of the
 * configuration in force (updated by the daemon on reload), and four
 * callbacks (alerts go out through spool, which owns the outbox).
 */
struct target_env {
	struct event_base *base;
	const struct config_daemon *cfg;
	/* A run is due: start it (target_start_run) now or later. */
	void (*due)(struct target *t, void *arg);
	/* A run has ended (its slot is free). */
	void (*finished)(struct target *t, void *arg);
	/* Spool an alert to these channels; what the outbox cannot take (a full
	 * disk) is the daemon's to keep and retry. */
	void (*spool)(const struct alert *a, char *const *channels, size_t n, void *arg);
	/* After a run, something the history report shows happened: a new
	 * snapshot, an audit entry (baseline, acknowledgement), an alert.  May be NULL. */
	void (*changed)(struct target *t, void *arg);
	/* Several daemons (daemon/fleet.c): the target's alert state was saved, and
	 * its baseline is hash (at every full snapshot).  May be NULL. */
	void (*state_saved)(struct target *t, void *arg);
	void (*baseline_seen)(struct target *t, const char *hash, void *arg);
	void *arg;
	/* Checks (target_check.c): the [check NAME] sections of the configuration in
	 * force, and the daemon's check worker, made on first use. */
	const struct dbcheck_custom_set *customs;
	struct worker **check_worker;
	/* [daemon] store = postgresql: every target's store is there (NULL: files). */
	struct store_central *central;
};

/* One monitored database: its schedule, pooled connection and run state. */
struct target {
	const struct target_env *env;
	char *name;
	struct config_target *cfg; /* in d->config; replaced on reload */
	char *password;            /* read from the file or credential; never logged */
	struct schedule *schedule;
	struct filter filter;
	struct store *store;
	struct alert_state *astate;

	struct event *due_timer;
	struct event *idle_timer;  /* closes the pooled connection */
	struct event *settle_timer;
	/* Every time below is in milliseconds: wall-clock instants (Unix epoch)
	 * unless named _mono_ (CLOCK_MONOTONIC), and durations. */
	int64_t next_due_ms;
	bool running, pending, queued;

	enum { PHASE_PROBE, PHASE_FULL, PHASE_CONFIRM } phase;
	struct live_snapshot *live;
	PGconn *conn;              /* pooled, idle */
	bool reused;               /* this snapshot started on the pooled connection */
	int64_t started_mono_ms;
	int64_t started_ms;

	char *fingerprint;         /* of the last full snapshot */
	/* The audit log's size when the alert state was last evaluated: a
	 * baseline accepted or an object acknowledged meanwhile grows it, and
	 * then the probe alone cannot answer. */
	long long audit_size;
	/* The audit log's size when this run started, before it read the
	 * baseline: what audit_size becomes when the run ends, so an accept
	 * made while the run was in flight is seen by the next one. */
	long long run_audit_size;
	int64_t last_full_ms;
	char last_hash[65];        /* last recorded schema hash */
	/* The DDL recorder at the last full snapshot (docs/attribution.md):
	 * TARGET_RECORDER_UNKNOWN until the first one after a start. */
	enum { TARGET_RECORDER_UNKNOWN, TARGET_RECORDER_ABSENT, TARGET_RECORDER_OK,
	       TARGET_RECORDER_PROBLEM } recorder_state;
	/* Its rows are read from the baseline's time on. */
	char recorder_since[32];
	size_t last_objects;       /* and its number of objects */
	char candidate[65];        /* a changed hash waiting for its confirming snapshot */
	/* The baseline's model, kept while the target drifts, so that a changed
	 * run compares without reading the baseline from the store again. */
	struct model *baseline;
	char baseline_hash[65];

	/* For status and metrics. */
	int64_t last_run_ms, last_success_ms;
	int64_t last_duration_ms;
	char *last_error;
	bool drifting, failing, waiting_for_baseline;
	uint64_t runs, failures, probes_unchanged;
	int64_t worst_lag_ms;      /* the longest a run started after it was due */
	int64_t due_ms;            /* wall-clock due time of the run requested, for the lag */
	struct target_verify *verify; /* target_verify.c; NULL without expected/expected_cmd */

	struct target_checks *checks; /* schema health checks (target_check.c); NULL: none */

	/* With [daemon] coordination (daemon/fleet.c): runs only while leased, and
	 * only until the lease would expire (monotonic), whatever the database says. */
	bool coordinated, leased;
	/* Leased, but another live node should hold it: kept only while a run of
	 * it is in flight (target_busy), and no new run starts, so that it moves. */
	bool handing_over;
	/* The central store did not answer when the alert states were to be read:
	 * they are read before the next run (target_start_run), and no run goes
	 * without them (it could not tell what was already alerted). */
	bool state_pending;
	int64_t lease_until_mono_ms;
	char *holder;                 /* the node holding the lease, as last read; NULL: none */
	char published_baseline[65];  /* the baseline hash last handed to baseline_seen */
};

/*
 * What a target's configuration builds that can fail, built once per load or
 * reload before anything running is touched, then handed over to the target.
 */
struct target_setup {
	struct schedule *schedule;
	struct filter filter;
	char *password; /* NULL: none configured (or not read yet) */
	struct schedule *verify_schedule; /* with expected or expected_cmd (target_verify.c) */
	struct schedule *checks_schedule; /* checks_schedule in the target's zone */
};

/* Schedule, time zone and filter of cfg; errors name the key's file:line. */
int target_setup_build(const struct config *c, const struct config_target *cfg,
		       struct target_setup *ret, struct error *err);
/* Reads the password file or credential into s when cfg names one. */
int target_setup_read_password(const struct config *c, const struct config_target *cfg,
			       struct target_setup *s, struct error *err);
/* Frees s's contents; the password is wiped first. */
void target_setup_done(struct target_setup *s);

/* Takes setup's contents (leaving it empty) whether or not it succeeds. */
int target_new(const struct target_env *env, const char *state_dir, struct config_target *cfg,
	       struct target_setup *setup, struct target **ret, struct error *err);
/* Takes the new configuration and setup (after a reload) without losing run state. */
void target_reconfigure(struct target *t, struct config_target *cfg, struct target_setup *setup);
void target_free(struct target *t);
/* To every notifier of the target, through the daemon's spool (the durable
 * outbox), and onto the report's alerts.log: every alert of the target, from
 * snapshots, verify runs and checks. */
void target_spool(struct target *t, struct alert *a);
void target_schedule_next(struct target *t, bool run_now);
void target_start_run(struct target *t);
/* t's lease went to another daemon or expired: its pooled connection is closed (the
 * new holder opens its own; the server's max_connections counts both). */
void target_lease_lost(struct target *t);
/* Whether t may be checked now: always without coordination, else while its lease lasts. */
bool target_may_run(const struct target *t);
/* Whether a run may start on t now: target_may_run(), with a quarter of
 * lease_timeout left at least (a run that starts should end inside the lease),
 * and not while t is being handed over. */
bool target_may_start(const struct target *t);
/* Whether a run, a check run or a verify run of t is in flight or queued: its
 * lease is kept until it ends, even when another daemon should have t. */
bool target_busy(const struct target *t);
/* For a run's (or a check or verify run's) end: false while t may run; else
 * logs that the lease was lost during the run and returns true, and the caller
 * records the run but alerts nothing and hands nothing on (the holder does). */
bool target_lost_lease(const struct target *t);
/*
 * A lease was taken on t: resume from what its last holder wrote (either may
 * be NULL): the alert state (replacing ours, saved to our store) and the
 * baseline snapshot (imported into our store when it is not our baseline).
 * The next run is a full snapshot.  Errors are logged; the target goes on.
 */
void target_take_over(struct target *t, const char *alert_state, const char *baseline_hash,
		      const unsigned char *baseline, size_t baseline_len, const char *node);
json_t *target_status_json(const struct target *t);

/* target_check.c: schema health checks on their own schedule, on a worker thread. */
struct dbcheck_custom_set;
struct evbuffer;
struct worker;
/* Takes over checks_schedule (freed on failure too); arms the checks' timer. */
int target_checks_configure(struct target *t, struct schedule *checks_schedule,
			    struct error *err);
void target_checks_free(struct target *t);
/*
 * Reads an alert state of t from its store (sub: NULL for drift, "checks",
 * "verify").  When the central store does not answer, *ret is a fresh state
 * and t->state_pending is set: the states are read before the next run.
 */
int target_load_state(struct target *t, const char *sub, struct alert_state **ret,
		      struct error *err);
/* The checks' alert state again from the store (the central store: after a takeover,
 * what the last holder saved; after a start while it did not answer).  On an
 * error the state in memory stays. */
int target_checks_reload_state(struct target *t, struct error *err);
/* 1 started, 0 already running, -ENOENT no checks configured, -EREMOTE another
 * daemon holds the target's lease or is about to (ours ends, or is being handed
 * over), -ENOMEM. */
int target_checks_run_now(struct target *t);
bool target_checks_running(const struct target *t);
json_t *target_checks_status_json(const struct target *t);
void target_checks_metrics(struct target *const *targets, size_t n, struct evbuffer *b,
			   void (*label)(struct evbuffer *b, const char *v));

#endif
