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
#include "target.h"

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
	struct target_env target_env; /* what every target is given (target.h) */
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
/* A target is due: run it now or queue it behind max_concurrent (control.c's run-now). */
void daemon_request_run(struct daemon *d, struct target *t);

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
