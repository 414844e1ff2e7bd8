/* The daemon's configuration: one descriptor table drives parsing, defaults, checks and docs. */
#ifndef SCHEMADRIFT_CONFIG_H
#define SCHEMADRIFT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ini.h"
#include "error.h"

struct dbcheck_custom_set;

struct config_daemon {
	char *state_dir;
	char *runtime_dir;
	char *log_level; /* error, warning, notice, info, debug */
	long long max_concurrent;
	char *schedule; /* default for targets */
	char *timezone; /* default for targets */
	long long jitter_ms;
	long long connect_timeout_ms;
	long long statement_timeout_ms;
	long long lock_timeout_ms;
	long long idle_timeout_ms;
	long long full_every_ms;
	long long settle_delay_ms; /* 0: alert without a confirming snapshot */
	long long repeat_interval_ms;
	long long error_threshold;
	long long keep_snapshots;
	long long keep_days;
	long long outbox_max_age_ms;
	long long outbox_max_entries;
	long long outbox_max_bytes;
	long long outbox_concurrency;
	long long outbox_backoff_base_ms;
	long long outbox_backoff_cap_ms;
	char *metrics_listen; /* "" (off) or "127.0.0.1:9187" */
	char *report_dir;     /* "" (off) or where the HTML history report is kept */
	/* Several daemons sharing their targets (docs/operations.md) */
	char *coordination;          /* a libpq DSN, or NULL: this daemon runs every target */
	char *coordination_password; /* file:PATH or credential:NAME, or NULL */
	char *node_name;             /* NULL: HOSTNAME:PID */
	/* The central store (docs/store.md) */
	char *store;                 /* "file" or "postgresql" */
	char *store_dsn;             /* NULL: coordination's */
	char *store_password;        /* file:PATH or credential:NAME, or NULL */
	long long lease_timeout_ms;
};

struct config_target {
	char *name;
	char *dsn;
	char *password_source; /* file:PATH or credential:NAME, or NULL */
	char *schedule;
	char *timezone;
	char **include, **exclude, **include_schema, **exclude_schema, **ignore, **notifiers;
	size_t n_include, n_exclude, n_include_schema, n_exclude_schema, n_ignore, n_notifiers;
	char *partitions; /* parent | full */
	char *environment;
	char *baseline;   /* auto | require */
	char *link_template;
	/* verify (docs/verify.md): the repository's schema, checked on verify_schedule */
	char *expected, *expected_format, *expected_cmd, *verify_schedule, *scratch_dsn, *pg_bindir;
	bool enabled;
	/* schema health checks (docs/checks.md) */
	char **checks;
	size_t n_checks;
	char *checks_schedule;
	char *check_dsn;  /* NULL: dsn */
	long long check_statement_timeout_ms, check_lock_timeout_ms;
	long long check_sample_rows, check_sample_above;
	bool check_exact_counts, check_all_constraints;
	const char *file; /* where the section is, for messages */
	int line;
};

struct config {
	struct config_daemon daemon;
	struct config_target *targets;
	size_t n_targets;
	struct ini *raw; /* owns the parsed file; notifier sections live here */
	struct dbcheck_custom_set *customs; /* the [check NAME] sections */
};

/* Parses and validates everything; errors name FILE:LINE and the key. */
int config_load(const char *path, struct config **ret, struct error *err);
int config_from_conf(struct ini *raw, struct config **ret, struct error *err);
void config_free(struct config *c);

const struct config_target *config_target(const struct config *c, const char *name);

/* Which keys may change on SIGHUP without a restart. */
bool config_reloadable(const char *section, const char *key);

/* The commented sample configuration (conf/schemadrift.conf), from the table. */
int config_write_sample(FILE *out);
/* The key table itself, one tab-separated line per key (schemadriftd --print-keys):
 * section, key, type, default, min, max (ints; durations in ms), choices, and
 * "reload" or "restart".  The first line, starting with '#', names the columns. */
int config_write_keys(FILE *out);

/* "HOST:PORT" or "[IPv6]:PORT" split; the host is malloc'd. */
int config_listen_split(const char *listen, char **ret_host, unsigned short *ret_port,
			struct error *err);

/*
 * After a reload: for each key that takes effect only at a restart and whose
 * value in loaded differs from running's, calls fn (where: the line setting
 * it in loaded, NULL for the default), then gives loaded a copy of the
 * running value, so that it goes on with it until the next restart.
 * -ENOMEM, with loaded partly updated (to be freed, not used).
 */
typedef void (*config_restart_fn)(const char *section, const char *name, const char *key,
				  const struct ini_kv *where, void *arg);
int config_keep_restart_only(struct config *loaded, const struct config *running,
			     config_restart_fn fn, void *arg);

#endif
