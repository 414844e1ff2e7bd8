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

#endif
