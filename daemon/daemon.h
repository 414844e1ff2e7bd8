/* schemadriftd internals: the daemon, its targets, control socket, metrics and systemd glue. */
#ifndef SCHEMADRIFT_DAEMON_H
#define SCHEMADRIFT_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "alert_state.h"
#include "config.h"
#include "filter.h"
#include "live.h"
#include "notify.h"
#include "outbox.h"
#include "schedule.h"
#include "store.h"

struct daemon;

/* One monitored database: its schedule, pooled connection and run state. */
struct target {
	struct daemon *d;
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
	time_t next_due;
	bool running, pending, queued;

	enum { PHASE_PROBE, PHASE_FULL, PHASE_CONFIRM } phase;
	struct live_snapshot *live;
	PGconn *conn;              /* pooled, idle */
	struct timespec started;
	time_t started_wall;

	char *fingerprint;         /* of the last full snapshot */
	/* The audit log's size when the alert state was last evaluated: a
	 * baseline accepted or an object acknowledged meanwhile grows it, and
	 * then the probe alone cannot answer. */
	long long audit_size;
	time_t last_full;
	char last_hash[65];        /* last recorded schema hash */
	int server_major;          /* the server's, at the last full snapshot; 0 unknown */
	size_t last_objects;       /* and its number of objects */
	char candidate[65];        /* a changed hash waiting for its confirming snapshot */

	/* For status and metrics. */
	time_t last_run, last_success;
	long long last_duration_ms;
	char *last_error;
	bool drifting, failing, waiting_for_baseline;
	uint64_t runs, failures, probes_unchanged;
	double worst_lag_s;        /* the longest a run started after it was due */
	int64_t due_ms;            /* wall-clock due time of the run requested, for the lag */
};

struct daemon {
	struct event_base *base;
	char *config_path;
	struct config *config;
	struct target **targets;
	size_t n_targets;
	size_t active;             /* runs in flight */
	struct target **waitq;     /* due while max_concurrent runs were in flight */
	size_t n_waitq, cap_waitq;

	struct notify_env notify_env;
	struct notify_channel **channels;
	size_t n_channels;
	struct outbox *outbox;
	uint64_t alerts_sent, alerts_failed;
	/* The same per notifier, by name (kept across reloads). */
	struct channel_stats {
		char *name;
		uint64_t sent, failed;
	} *chstats;
	size_t n_chstats;

	struct event *sig_hup, *sig_term, *sig_int, *watchdog, *status_timer;
	uint64_t watchdog_usec;
	bool stopping;
	bool verbose;              /* -v: debug messages whatever log_level says */
	char *reload_error;        /* the last failed reload, for STATUS and status */

	struct control *control;
	struct metrics *metrics;
};

/* daemon.c */
int daemon_start(struct daemon *d, const char *config_path, struct error *err);
void daemon_stop(struct daemon *d);
/* --check-config: what startup would refuse, without starting (notifier
 * sections, schedules, time zones, ignore rules, password files). */
int daemon_check_config(const struct config *c, struct error *err);
void daemon_update_status(struct daemon *d);
/* A target finished a run: start whatever waited for a free slot. */
void daemon_run_finished(struct daemon *d, struct target *t);
/* A target is due: run it now or queue it behind max_concurrent. */
void daemon_request_run(struct daemon *d, struct target *t);

/* target.c */
int target_new(struct daemon *d, const char *state_dir, struct config_target *cfg,
	       struct target **ret, struct error *err);
/* Takes the new configuration (after a reload) without losing run state. */
int target_reconfigure(struct target *t, struct config_target *cfg, struct error *err);
void target_free(struct target *t);
void target_schedule_next(struct target *t, bool run_now);
void target_start_run(struct target *t);
json_t *target_status_json(const struct target *t);

/* control.c: the unix socket behind `schemadrift status` and `run-now`. */
struct control;
int control_open(struct daemon *d, const char *runtime_dir, struct control **ret,
		 struct error *err);
void control_close(struct control *c);

/* metrics.c: Prometheus text at /metrics and /healthz. */
struct metrics;
int metrics_open(struct daemon *d, const char *listen, struct metrics **ret, struct error *err);
void metrics_close(struct metrics *m);

/* service.c: what systemd is told (sd_notify), and nothing if not under systemd. */
void service_ready(void);
void service_reloading(void);
void service_stopping(void);
void service_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void service_watchdog(void);
uint64_t service_watchdog_usec(void);

/* Monotonic milliseconds. */
int64_t daemon_now_ms(void);

#endif
