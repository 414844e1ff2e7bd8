/* schemadriftd internals: the daemon, its targets, control socket, metrics and systemd glue. */
#ifndef SCHEMADRIFT_DAEMON_H
#define SCHEMADRIFT_DAEMON_H

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

	/* Alerts the outbox could not take (a full disk), one per channel: kept
	 * in memory and offered again on retry_timer, never lost silently. */
	struct unspooled {
		json_t *alert;
		char *channel;
	} *unspooled;
	size_t n_unspooled;
	struct event *retry_timer;

	struct event *sig_hup, *sig_term, *sig_int, *watchdog, *status_timer;
	uint64_t watchdog_usec;
	bool stopping;
	bool verbose;              /* -v: debug messages whatever log_level says */
	char *reload_error;        /* the last failed reload, for STATUS and status */
	bool config_invalid;       /* daemon_start() failed on the configuration */
	uint64_t reloads_ok, reloads_failed;
	time_t config_loaded;      /* the last successful load, at startup or reload */

	struct control *control;
	struct metrics *metrics;
	struct reporting *reporting;
	struct worker *check_worker; /* runs check jobs (target_check.c), made on first use */
	struct fleet *fleet;       /* [daemon] coordination (fleet.c); NULL: every target is ours */
	struct store_central *central; /* [daemon] store = postgresql; NULL: files */
};

/* The exit status for a configuration that cannot be used (sysexits.h's
 * EX_CONFIG): the unit's RestartPreventExitStatus= stops restarts on it. */
#define DAEMON_EXIT_CONFIG 78

/* daemon.c */
/* On failure, d->config_invalid says whether the configuration was the reason. */
int daemon_start(struct daemon *d, const char *config_path, struct error *err);
void daemon_stop(struct daemon *d);
/* What startup and a reload refuse, without starting anything: every key's
 * value, notifier sections, ignore rules, directories, the metrics address,
 * and (secrets) that password files can be read.  --check-config, startup
 * and a reload all call this, so they refuse the same files. */
int daemon_check_config(const struct config *c, bool secrets, struct error *err);
/* config_load() and daemon_check_config(). */
int daemon_load_config(const char *path, bool secrets, struct config **ret, struct error *err);
/* Makes path and its missing parents; the error says what to do. */
int daemon_make_dir(const char *path, const char *key, struct error *err);
void daemon_update_status(struct daemon *d);
/* A target is due: run it now or queue it behind max_concurrent (control.c's run-now). */
/* The target configured as name, or NULL. */
struct target *daemon_find_target(struct daemon *d, const char *name);
void daemon_request_run(struct daemon *d, struct target *t);

/* control.c: the unix socket behind `schemadrift status` and `run-now`. */
struct control;
int control_open(struct daemon *d, const char *runtime_dir, struct control **ret,
		 struct error *err);
/* runtime_dir/control.sock, malloc'd; -ENAMETOOLONG when a socket cannot have it. */
int control_socket_path(const char *runtime_dir, char **ret, struct error *err);
void control_close(struct control *c);

/* metrics.c: Prometheus text at /metrics and /healthz. */
struct metrics;
int metrics_open(struct daemon *d, const char *listen, struct metrics **ret, struct error *err);
/* Whether host (a name or an address) resolves to one to listen on. */
int metrics_check_host(const char *host, unsigned short port, struct error *err);
void metrics_close(struct metrics *m);

/* reporting.c: the HTML report in report_dir, rewritten off the loop after a change. */
struct reporting;
int reporting_new(struct daemon *d, struct reporting **ret);
/* Something worth showing happened to target: rewrite its page and the index. */
void reporting_changed(struct reporting *rp, const char *target);
void reporting_free(struct reporting *rp);

/* fleet.c: several daemons sharing their targets through the coordination database. */
struct fleet;
struct fleet_stats {
	bool up;
	size_t live_nodes, leases_held;
	uint64_t acquired, takeovers, expired, rounds_ok, rounds_failed, queries;
};
/* Reads the coordination password; rounds begin at fleet_start(). */
int fleet_new(struct daemon *d, const struct config *c, struct fleet **ret, struct error *err);
void fleet_start(struct fleet *f);
/* At a stop, after the loop: flushes the queued writes, releases every lease and leaves
 * the live nodes, so that the others take over at once.  Blocks (bounded). */
void fleet_leave(struct fleet *f);
void fleet_free(struct fleet *f);
/* target_env.state_saved and baseline_seen: queued for the next round. */
void fleet_state_saved(struct fleet *f, struct target *t);
void fleet_baseline_seen(struct fleet *f, struct target *t, const char *hash);
json_t *fleet_status_json(const struct fleet *f);
void fleet_get_stats(const struct fleet *f, struct fleet_stats *ret);

/* service.c: what systemd is told (sd_notify), and nothing if not under systemd. */
void service_ready(void);
void service_reloading(void);
void service_stopping(void);
void service_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void service_watchdog(void);
uint64_t service_watchdog_usec(void);

#endif
