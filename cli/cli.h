/* schemadrift CLI: shared state and helpers of the command files (cli_*.c). */
#ifndef SCHEMADRIFT_CLI_H
#define SCHEMADRIFT_CLI_H

#include <jansson.h>

#include "error.h"
#include "filter.h"
#include "model.h"

/* Exit statuses, as diff(1). */
enum { EXIT_SAME = 0, EXIT_DIFFERENT = 1, EXIT_TROUBLE = 2 };

/* Options, parsed once in cli.c for every command. */
struct cli {
	const char *dsn;
	const char *output;
	const char *format;
	const char *color;
	int connect_timeout_ms;
	struct filter filter;  /* --include/--exclude/--ignore... */
	bool partitions_full;  /* --partitions full */
	/* the history store (cli_store.c) */
	const char *target, *state_dir, *reason, *expires;
	const char *keep, *keep_days, *history_days; /* parsed in cli_store.c */
	bool list, remove;
	/* notifiers and the outbox (cli_alert.c) */
	const char *config, *channel, *spool, *enqueue_test;
	/* verify (cli_verify.c) */
	const char *expected, *expected_format, *expected_cmd, *scratch_dsn, *pg_bindir;
	bool timing;
	/* a running schemadriftd (cli_control.c) */
	const char *runtime_dir;
	/* the history report (cli_html.c) */
	const char *since;
	bool all;
	/* schema health checks (cli_check.c) */
	const char *only, *fail_on, *sample_rows, *sample_above, *statement_timeout,
		*lock_timeout;
	bool exact_counts, all_constraints;
	/* the DDL recorder (cli_audit.c) */
	const char *recorder_schema, *retention, *statement_length, *grant;
	bool no_statement, who;
};

/* Prints "schemadrift: <message>" on stderr (cli_report.c). */
/*
 * Where the per-target stores are: --state-dir, or the daemon configuration's
 * state_dir and store (--config FILE or $SCHEMADRIFT_CONFIG: with store =
 * postgresql, the central store), or $SCHEMADRIFT_STATE_DIR.  -1 after
 * cli_fail() when the configuration cannot be read.
 */
struct store_options;
int cli_store_options(const struct cli *c, struct store_options *o);
void cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sides (cli_side.c).  A live side's DSN ("postgresql://...", "dsn:..."), or NULL for a file. */
const char *cli_side_dsn(const char *side);
/* Snapshot of a live database, or of a side (file or live); reports errors. */
int cli_take_live(const struct cli *c, const char *dsn, struct model **ret);
int cli_load_side(const struct cli *c, const char *side, struct model **ret);

int cli_cmd_snapshot(const struct cli *c, int argc, char **argv);
int cli_cmd_hash(const struct cli *c, int argc, char **argv);
int cli_cmd_diff(const struct cli *c, int argc, char **argv);
int cli_cmd_kinds(const struct cli *c, int argc, char **argv);
int cli_cmd_probe(const struct cli *c, int argc, char **argv);
int cli_cmd_test_alert(const struct cli *c, int argc, char **argv);
int cli_cmd_render(const struct cli *c, int argc, char **argv);
int cli_cmd_outbox_drain(const struct cli *c, int argc, char **argv);
/* Does the live schema match the repository's (cli_verify.c)? */
int cli_cmd_verify(const struct cli *c, int argc, char **argv);
/* A running schemadriftd, through its control socket (cli_control.c). */
int cli_cmd_status(const struct cli *c, int argc, char **argv);
int cli_cmd_run_now(const struct cli *c, int argc, char **argv);
/* The history report as HTML (cli_html.c). */
int cli_cmd_report(const struct cli *c, int argc, char **argv);
/* One request to the control socket and its answer (new reference). */
int cli_control_ask(const struct cli *c, json_t *req, json_t **ret, struct error *err);
/* Schema health checks (cli_check.c). */
int cli_cmd_check(const struct cli *c, int argc, char **argv);

/* The DDL recorder: install, uninstall, status (cli_audit.c). */
int cli_cmd_audit(const struct cli *c, int argc, char **argv);

/* The history store (cli_store.c). */
struct diff;
int cli_cmd_baseline(const struct cli *c, int argc, char **argv);
int cli_cmd_ack(const struct cli *c, int argc, char **argv);
int cli_cmd_history(const struct cli *c, int argc, char **argv);
int cli_cmd_show(const struct cli *c, int argc, char **argv);
/* snapshot --target NAME: records a run into the store. */
int cli_store_snapshot(const struct cli *c, int argc, char **argv);
/* TARGET@REF (baseline, latest, a time, a hash prefix) as a side, as stored
 * (cli_load_side() applies the filter). */
bool cli_is_store_ref(const char *side);
int cli_load_store_side(const struct cli *c, const char *side, struct model **ret);
/* Applies the target's acks when a side is TARGET@REF; *ret_keep holds the
 * reasons d borrows: free it with cli_store_acknowledge_done() after d. */
size_t cli_store_acknowledge(const struct cli *c, const char *a, const char *b, struct diff *d,
			     void **ret_keep);
void cli_store_acknowledge_done(void *keep);

#endif
