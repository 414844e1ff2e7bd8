/* schemadrift snapshot --target, baseline, ack, history, show: the per-target history store. */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ack.h"
#include "cli.h"
#include "config.h"
#include "diff.h"
#include "isotime.h"
#include "live.h"
#include "recorder.h"
#include "snapshot.h"
#include "store.h"
#include "utf8.h"

/* --------------------------------------------------------------- helpers */

static void cli_store_warn(const char *message, void *data)
{
	(void)data;
	fputs("schemadrift: warning: ", stderr);
	utf8_escape_fputs(message, strlen(message), 0, stderr);
	fputc('\n', stderr);
}

/* --config (or $SCHEMADRIFT_CONFIG): the daemon's configuration, read once, and the
 * central store it names; both live until the process ends. */
static struct config *cli_config;
static struct store_central *cli_central;

static void cli_store_cleanup(void)
{
	store_central_free(cli_central);
	config_free(cli_config);
}

int cli_store_options(const struct cli *c, struct store_options *o)
{
	const char *env = getenv("SCHEMADRIFT_STATE_DIR");
	const char *conf = c->config ? c->config : getenv("SCHEMADRIFT_CONFIG");

	memset(o, 0, sizeof(*o));
	if (conf && *conf && !cli_config) {
		struct error err;

		atexit(cli_store_cleanup);
		if (config_load(conf, &cli_config, &err) < 0 ||
		    store_central_from_config(cli_config, true, &cli_central, &err) < 0) {
			cli_fail("%s", err.text);
			return -1;
		}
	}
	/* --state-dir, then the configuration's, then the environment's. */
	o->state_dir = c->state_dir	       ? c->state_dir
		       : cli_config	       ? cli_config->daemon.state_dir
		       : env && *env	       ? env
					       : STORE_DEFAULT_STATE_DIR;
	o->central = cli_central;
	o->warn = cli_store_warn;
	return 0;
}

/* Where the stores are, for messages. */
static const char *stores_where(const struct store_options *o)
{
	return o->central ? store_central_where(o->central) : o->state_dir;
}

static struct store *open_store(const struct cli *c, const char *target, bool create)
{
	struct store_options o;
	struct store *s;
	struct error err;

	if (cli_store_options(c, &o) < 0)
		return NULL;
	if (store_open(&o, target, create, &s, &err) < 0) {
		cli_fail("%s", err.text);
		return NULL;
	}
	return s;
}

/* Who is acting, for the audit log: the sudo user when root via sudo. */
static void who_am_i(char *buf, size_t size)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw = getpwuid(geteuid());

	if (geteuid() == 0 && sudo && *sudo)
		snprintf(buf, size, "%s (via sudo)", sudo);
	else if (pw)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "uid %u", (unsigned)geteuid());
}

static int parse_count(const char *opt, const char *text, int *ret)
{
	char *end;
	long v;

	if (!text) {
		*ret = -1;
		return 0;
	}
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || end == text || v < 0 || v > 1000000) {
		cli_fail("%s takes a whole number (0 to 1000000)", opt);
		return -1;
	}
	*ret = (int)v;
	return 0;
}

/* Saves --keep/--keep-days/--history-days (when given) as the target's policy. */
static int apply_retention_options(const struct cli *c, struct store *s)
{
	struct store_retention r;
	struct error err;

	if (parse_count("--keep", c->keep, &r.keep_snapshots) < 0 ||
	    parse_count("--keep-days", c->keep_days, &r.keep_days) < 0 ||
	    parse_count("--history-days", c->history_days, &r.history_days) < 0)
		return -1;
	if (r.keep_snapshots < 0 && r.keep_days < 0 && r.history_days < 0)
		return 0;
	if (store_retention_set(s, &r, &err) < 0) {
		cli_fail("%s", err.text);
		return -1;
	}
	return 0;
}

static const char *short_hash(const char *hash)
{
	static char buf[4][13];
	static int next;
	char *b = buf[next++ % 4];

	snprintf(b, 13, "%s", hash);
	return b;
}

/* "3 changes: 1 breaking, 1 warning, 1 info (1 added, 2 modified)" */
static void summary_text(const struct store_summary *sum, char *buf, size_t size)
{
	size_t n = 0;
	bool first = true;

	n += (size_t)snprintf(buf + n, size - n, "%zu change%s: %zu breaking, %zu warning, %zu info (",
			      sum->changes, sum->changes == 1 ? "" : "s",
			      sum->by_severity[DIFF_BREAKING], sum->by_severity[DIFF_WARNING],
			      sum->by_severity[DIFF_INFO]);
	for (size_t i = 0; i < sizeof(sum->by_type) / sizeof(sum->by_type[0]) && n < size; i++) {
		if (!sum->by_type[i])
			continue;
		n += (size_t)snprintf(buf + n, size - n, "%s%zu %s", first ? "" : ", ",
				      sum->by_type[i], diff_type_name((enum diff_change_type)i));
		first = false;
	}
	if (n < size)
		snprintf(buf + n, size - n, ")");
	if (sum->changes == 0)
		snprintf(buf, size, "no changes that count (only in attributes diff ignores)");
}

/* Takes a live snapshot, keeping the error text (cli_take_live prints it). */
static int take_live(const struct cli *c, const char *dsn, struct model **ret, struct error *err)
{
	struct live_options opts = {
		.dsn = dsn,
		.connect_timeout_ms = c->connect_timeout_ms,
		.catalog = { .partitions_full = c->partitions_full },
		.filter = &c->filter,
	};

	return live_snapshot_run(&opts, ret, err);
}

/*
 * One run, as the daemon records it: the snapshot (or the failure) goes
 * into the history.  Returns the exit status; ret gets the history line.
 */
static int record_live_run(const struct cli *c, struct store *s, struct store_run *ret)
{
	struct store_record rec = { 0 };
	struct model *m = NULL;
	int64_t t0;
	struct error err, serr;
	int r;

	rec.started = time(NULL);
	t0 = isotime_mono_ms();
	r = take_live(c, c->dsn, &m, &err);
	rec.duration_ms = isotime_mono_ms() - t0;
	if (r < 0) {
		rec.error = err.text;
		if (store_record_run(s, &rec, NULL, &serr) < 0)
			cli_fail("%s (and the failed run could not be recorded: %s)", err.text,
				 serr.text);
		else
			cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	rec.model = m;
	r = store_record_run(s, &rec, ret, &serr);
	if (r == 0 && c->output && (r = snapshot_save(m, c->output, &serr)) < 0)
		store_run_done(ret);
	model_free(m);
	if (r < 0) {
		cli_fail("%s", serr.text);
		return EXIT_TROUBLE;
	}
	return EXIT_SAME;
}

static void print_run(const struct store *s, const struct store_run *run)
{
	char sum[256];

	if (!run->from[0] && run->new_snapshot)
		printf("%s: %s: first snapshot, %zu objects\n", store_target(s),
		       short_hash(run->hash), run->objects);
	else if (!run->from[0])
		printf("%s: %s: unchanged, %zu objects\n", store_target(s), short_hash(run->hash),
		       run->objects);
	else if (run->summary.known) {
		summary_text(&run->summary, sum, sizeof(sum));
		printf("%s: %s: %s since %s\n", store_target(s), short_hash(run->hash), sum,
		       short_hash(run->from));
	} else
		printf("%s: %s: changed since %s (which is no longer stored)\n", store_target(s),
		       short_hash(run->hash), short_hash(run->from));
}

/* snapshot --dsn DSN --target NAME: called by cli_cmd_snapshot. */
int cli_store_snapshot(const struct cli *c, int argc, char **argv)
{
	struct store_run run = { 0 };
	struct store *s;
	int status;

	(void)argv;
	if (!c->dsn || argc != 0) {
		cli_fail("snapshot --target needs --dsn DSN and no other arguments (see --help)");
		return EXIT_TROUBLE;
	}
	s = open_store(c, c->target, true);
	if (!s)
		return EXIT_TROUBLE;
	if (apply_retention_options(c, s) < 0) {
		store_free(s);
		return EXIT_TROUBLE;
	}
	status = record_live_run(c, s, &run);
	if (status == EXIT_SAME) {
		print_run(s, &run);
		store_run_done(&run);
	}
	store_free(s);
	return fflush(stdout) == 0 ? status : EXIT_TROUBLE;
}

/* ------------------------------------------------------------- TARGET@REF */

bool cli_is_store_ref(const char *side)
{
	const char *at = strchr(side, '@');
	char target[STORE_TARGET_MAX + 1];
	size_t n;

	if (!at || strchr(side, '/') || at[1] == '\0')
		return false;
	n = (size_t)(at - side);
	if (n == 0 || n > STORE_TARGET_MAX)
		return false;
	memcpy(target, side, n);
	target[n] = '\0';
	return store_target_valid(target);
}

/* Opens the store named by TARGET@REF and resolves REF. */
static struct store *open_ref(const struct cli *c, const char *side, char hash[65])
{
	const char *at = strchr(side, '@');
	char target[STORE_TARGET_MAX + 1];
	struct store *s;
	struct error err;

	snprintf(target, sizeof(target), "%.*s", (int)(at - side), side);
	s = open_store(c, target, false);
	if (!s)
		return NULL;
	if (store_resolve(s, at + 1, hash, &err) < 0) {
		cli_fail("%s", err.text);
		store_free(s);
		return NULL;
	}
	return s;
}

int cli_load_store_side(const struct cli *c, const char *side, struct model **ret)
{
	char hash[65];
	struct store *s = open_ref(c, side, hash);
	struct error err;
	int r;

	if (!s)
		return -1;
	r = store_load_snapshot(s, hash, ret, &err);
	store_free(s);
	if (r < 0) {
		cli_fail("%s", err.text);
		return -1;
	}
	return 0;
}

/* Marks acknowledged changes when a side is TARGET@REF (the second side's target first). */
size_t cli_store_acknowledge(const struct cli *c, const char *a, const char *b, struct diff *d,
			     void **ret_keep)
{
	const char *side = cli_is_store_ref(b) ? b : cli_is_store_ref(a) ? a : NULL;
	char target[STORE_TARGET_MAX + 1];
	struct ack_set *set = NULL;
	struct store *s;
	struct error err;
	size_t n;

	*ret_keep = NULL;
	if (!side)
		return 0;
	snprintf(target, sizeof(target), "%.*s", (int)(strchr(side, '@') - side), side);
	s = open_store(c, target, false);
	if (!s)
		return 0;
	if (ack_load(s, &set, &err) < 0) {
		cli_fail("warning: acknowledgements not applied: %s", err.text);
		store_free(s);
		return 0;
	}
	n = ack_apply(set, d, time(NULL));
	store_free(s);
	*ret_keep = set; /* the reasons are borrowed by d */
	return n;
}

void cli_store_acknowledge_done(void *keep)
{
	ack_set_free(keep);
}

/* ------------------------------------------------------------- baseline */

static int baseline_show(const struct cli *c, const char *target)
{
	struct store_baseline b;
	struct store *s = open_store(c, target, false);
	struct model *base = NULL, *latest = NULL;
	struct ack_set *acks = NULL;
	struct diff *d = NULL;
	char when[21], latest_hash[65];
	struct error err;
	int r;

	if (!s)
		return EXIT_TROUBLE;
	r = store_baseline_get(s, &b, &err);
	if (r == -ENOENT) {
		cli_fail("target %s has no baseline (schemadrift baseline create|accept)", target);
		store_free(s);
		return EXIT_TROUBLE;
	}
	if (r < 0) {
		cli_fail("%s", err.text);
		store_free(s);
		return EXIT_TROUBLE;
	}
	isotime_format(b.accepted_at, when);
	printf("target:    %s\n", target);
	printf("baseline:  %s\n", b.hash);
	printf("accepted:  %s by %s (%s)\n", when, b.accepted_by ? b.accepted_by : "?",
	       b.action ? b.action : "baseline");
	printf("reason:    %s\n", b.reason ? b.reason : "(none given)");
	if (store_load_snapshot(s, b.hash, &base, &err) < 0) {
		printf("snapshot:  not available: %s\n", err.text);
	} else {
		printf("objects:   %zu\n", base->n_objects);
		if (store_resolve(s, "latest", latest_hash, &err) < 0) {
			printf("latest:    %s\n", err.text);
		} else if (strcmp(latest_hash, b.hash) == 0) {
			printf("latest:    %s, the same as the baseline\n", short_hash(latest_hash));
		} else if (store_load_snapshot(s, latest_hash, &latest, &err) < 0 ||
			   diff_models(base, latest, &d) < 0) {
			printf("latest:    %s (cannot compare: %s)\n", short_hash(latest_hash),
			       err.text);
		} else {
			struct store_summary sum = { .known = true, .changes = d->n_changes };

			if (ack_load(s, &acks, &err) == 0)
				ack_apply(acks, d, time(NULL));
			memcpy(sum.by_type, d->by_type, sizeof(sum.by_type));
			memcpy(sum.by_severity, d->by_severity, sizeof(sum.by_severity));
			char text[256];

			summary_text(&sum, text, sizeof(text));
			printf("latest:    %s differs: %s", short_hash(latest_hash), text);
			if (d->n_acknowledged)
				printf(", %zu acknowledged", d->n_acknowledged);
			printf("\n");
		}
	}
	diff_free(d);
	ack_set_free(acks);
	model_free(base);
	model_free(latest);
	store_baseline_done(&b);
	store_free(s);
	return fflush(stdout) == 0 ? EXIT_SAME : EXIT_TROUBLE;
}

static int baseline_set(struct store *s, const char *hash, const char *action,
			const char *reason)
{
	struct store_baseline old;
	bool had_old;
	char who[256];
	struct error err;

	who_am_i(who, sizeof(who));
	had_old = store_baseline_get(s, &old, NULL) == 0;
	if (store_baseline_set(s, hash, action, who, reason, &err) < 0) {
		cli_fail("%s", err.text);
		if (had_old)
			store_baseline_done(&old);
		return EXIT_TROUBLE;
	}
	if (had_old && strcmp(old.hash, hash) != 0)
		printf("%s: baseline is now %s (was %s)\n", store_target(s), short_hash(hash),
		       short_hash(old.hash));
	else if (had_old)
		printf("%s: baseline is still %s (accepted again)\n", store_target(s),
		       short_hash(hash));
	else
		printf("%s: baseline is now %s\n", store_target(s), short_hash(hash));
	if (had_old)
		store_baseline_done(&old);
	return fflush(stdout) == 0 ? EXIT_SAME : EXIT_TROUBLE;
}

int cli_cmd_baseline(const struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 0 ? argv[0] : "";
	struct store *s;
	struct error err;
	int status = EXIT_TROUBLE;

	if (strcmp(sub, "show") == 0 && argc == 2)
		return baseline_show(c, argv[1]);
	if (strcmp(sub, "create") == 0 && argc == 2) {
		struct store_run run = { 0 };

		if (!c->dsn) {
			cli_fail("baseline create needs --dsn DSN");
			return EXIT_TROUBLE;
		}
		s = open_store(c, argv[1], true);
		if (!s)
			return EXIT_TROUBLE;
		/* One locked step: the run and the accept, so nothing comes between. */
		if (store_lock(s, &err) < 0) {
			cli_fail("%s", err.text);
		} else {
			if (apply_retention_options(c, s) == 0 &&
			    record_live_run(c, s, &run) == EXIT_SAME) {
				status = baseline_set(s, run.hash, "baseline create",
						      c->reason ? c->reason
								: "created from the live database");
				store_run_done(&run);
			}
			store_unlock(s);
		}
		store_free(s);
		return status;
	}
	if (strcmp(sub, "accept") == 0 && (argc == 2 || argc == 3)) {
		char hash[65];

		if (!c->reason || !*c->reason) {
			cli_fail("baseline accept needs --reason \"...\" (it goes into the audit log)");
			return EXIT_TROUBLE;
		}
		s = open_store(c, argv[1], false);
		if (!s)
			return EXIT_TROUBLE;
		if (store_lock(s, &err) < 0) {
			cli_fail("%s", err.text);
		} else {
			if (store_resolve(s, argc == 3 ? argv[2] : "latest", hash, &err) < 0)
				cli_fail("%s", err.text);
			else
				status = baseline_set(s, hash, "baseline accept", c->reason);
			store_unlock(s);
		}
		store_free(s);
		return status;
	}
	cli_fail("usage: schemadrift baseline create TARGET --dsn DSN | "
		 "accept TARGET [REF] --reason TEXT | show TARGET");
	return EXIT_TROUBLE;
}

/* ------------------------------------------------------------------- ack */

static void print_ack(const char *target, const struct ack *a, const struct model *latest,
		      time_t now)
{
	char created[21], expires[21];

	isotime_format(a->created, created);
	isotime_format(a->expires, expires);
	printf("%s %s  %s  (%zu object%s)%s\n", target, a->id, a->pattern, a->n_objects,
	       a->n_objects == 1 ? "" : "s", ack_expired(a, now) ? "  EXPIRED" : "");
	printf("    by %s at %s, %s%s\n", a->who ? a->who : "?", created,
	       a->expires ? "expires " : "never expires", a->expires ? expires : "");
	printf("    reason: %s\n", a->reason ? a->reason : "(none)");
	for (size_t i = 0; i < a->n_objects; i++) {
		const struct ack_object *o = &a->objects[i];
		const char *state = !latest ? "" :
				    ack_object_current(o, latest) ? "" : "  (changed since: drift again)";

		printf("    %s %s%s%s\n", model_kind_info(o->kind)->label, o->label,
		       o->present ? "" : " (removed)", state);
	}
	for (size_t i = 0; i < a->n_findings; i++)
		printf("    finding %s\n", a->findings[i]);
}

static int ack_list_target(const struct cli *c, const char *target, bool quiet_if_none)
{
	struct store *s = open_store(c, target, false);
	struct ack_set *set = NULL;
	struct model *latest = NULL;
	char hash[65];
	struct error err;

	if (!s)
		return EXIT_TROUBLE;
	if (ack_load(s, &set, &err) < 0) {
		cli_fail("%s", err.text);
		store_free(s);
		return EXIT_TROUBLE;
	}
	if (set->n && store_resolve(s, "latest", hash, NULL) == 0)
		store_load_snapshot(s, hash, &latest, NULL);
	if (set->n == 0 && !quiet_if_none)
		printf("%s: no acknowledgements\n", target);
	for (size_t i = 0; i < set->n; i++)
		print_ack(target, &set->acks[i], latest, time(NULL));
	model_free(latest);
	ack_set_free(set);
	store_free(s);
	return EXIT_SAME;
}

static int ack_list(const struct cli *c, int argc, char **argv)
{
	struct store_options o;
	struct error err;
	char **targets;
	size_t n;
	int status = EXIT_SAME;

	if (argc == 1)
		return ack_list_target(c, argv[0], false);
	if (argc != 0) {
		cli_fail("usage: schemadrift ack --list [TARGET]");
		return EXIT_TROUBLE;
	}
	if (cli_store_options(c, &o) < 0)
		return EXIT_TROUBLE;
	if (store_list_targets(&o, &targets, &n, &err) < 0) {
		cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	for (size_t i = 0; i < n; i++)
		if (ack_list_target(c, targets[i], true) != EXIT_SAME)
			status = EXIT_TROUBLE;
	if (n == 0)
		printf("no targets in %s\n", stores_where(&o));
	store_strv_free(targets);
	return fflush(stdout) == 0 ? status : EXIT_TROUBLE;
}

/* --expires DATE: a bare date means through the end of that day (UTC). */
static int parse_expires(const char *text, time_t *ret)
{
	bool date_only;
	time_t t;

	if (store_parse_time(text, &t, &date_only) < 0) {
		cli_fail("--expires takes a date or time, e.g. 2026-12-31 or 2026-12-31T18:00Z");
		return -1;
	}
	*ret = date_only ? t + 86400 : t;
	return 0;
}

int cli_cmd_ack(const struct cli *c, int argc, char **argv)
{
	struct store *s;
	struct ack *a = NULL;
	struct error err;
	time_t expires = 0;
	char who[256], when[21];
	int r;

	if (c->list)
		return ack_list(c, argc, argv);
	if (argc != 2) {
		cli_fail("usage: schemadrift ack TARGET OBJECT --reason TEXT [--expires DATE] | "
			 "ack --list [TARGET] | ack --remove TARGET ID|OBJECT");
		return EXIT_TROUBLE;
	}
	who_am_i(who, sizeof(who));
	if (c->remove) {
		size_t n = 0;

		s = open_store(c, argv[0], false);
		if (!s)
			return EXIT_TROUBLE;
		r = ack_remove(s, argv[1], who, c->reason, &n, &err);
		store_free(s);
		if (r < 0) {
			cli_fail("%s", err.text);
			return EXIT_TROUBLE;
		}
		printf("%s: removed %zu acknowledgement%s\n", argv[0], n, n == 1 ? "" : "s");
		return fflush(stdout) == 0 ? EXIT_SAME : EXIT_TROUBLE;
	}
	if (!c->reason || !*c->reason) {
		cli_fail("ack needs --reason \"...\" (it goes into the audit log)");
		return EXIT_TROUBLE;
	}
	if (c->expires && parse_expires(c->expires, &expires) < 0)
		return EXIT_TROUBLE;
	s = open_store(c, argv[0], false);
	if (!s)
		return EXIT_TROUBLE;
	r = ack_add(s, argv[1], who, c->reason, expires, &a, &err);
	store_free(s);
	if (r < 0) {
		cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	isotime_format(a->expires, when);
	printf("%s: acknowledged %zu %s%s as %s%s%s:\n", argv[0],
	       a->n_findings ? a->n_findings : a->n_objects, a->n_findings ? "finding" : "object",
	       (a->n_findings ? a->n_findings : a->n_objects) == 1 ? "" : "s", a->id,
	       a->expires ? " until " : "",
	       a->expires ? when : "");
	for (size_t i = 0; i < a->n_objects; i++)
		printf("    %s %s%s\n", model_kind_info(a->objects[i].kind)->label,
		       a->objects[i].label, a->objects[i].present ? "" : " (removed)");
	for (size_t i = 0; i < a->n_findings; i++)
		printf("    finding %s\n", a->findings[i]);
	ack_free(a);
	return fflush(stdout) == 0 ? EXIT_SAME : EXIT_TROUBLE;
}

/* --------------------------------------------------------------- history */

static void print_error_streak(const struct store_history *h, size_t first, size_t last)
{
	const char *raw = h->runs[last].error ? h->runs[last].error : "(no reason recorded)";
	char t0[21], t1[21], why[512];

	/* One line per streak, whatever the error text holds (utf8.h's rule). */
	utf8_escape(raw, strlen(raw), 0, why, sizeof(why));

	isotime_format(h->runs[first].time, t0);
	isotime_format(h->runs[last].time, t1);
	if (first == last)
		printf("%s  %-12s  run failed: %s\n", t0, "error", why);
	else
		printf("%s  %-12s  %zu failed runs until %s: %s\n", t0, "error", last - first + 1,
		       t1, why);
}

/* history --who: each change between two kept snapshots, with who made it
 * (the later snapshot's DDL recorder rows, docs/attribution.md). */
static void history_who(struct store *s, const char *from, const char *to)
{
	struct model *a = NULL, *b = NULL;
	struct diff *d = NULL;
	struct error err;

	int r = store_load_snapshot(s, from, &a, &err);

	if (r == 0)
		r = store_load_snapshot(s, to, &b, &err);
	if (r == 0 && (r = diff_models(a, b, &d)) < 0)
		error_set(&err, r, "out of memory"); /* its only failure; it takes no err */
	if (r < 0) {
		/* The reason quotes paths and snapshot files: escaped. */
		fputs("    (cannot compare: ", stdout);
		utf8_escape_fputs(err.text, strlen(err.text), 0, stdout);
		fputs(")\n", stdout);
		goto out;
	}
	if (!d->recorder) {
		printf("    (no DDL recorder: schemadrift audit install --dsn DSN)\n");
		goto out;
	}
	for (size_t i = 0; i < d->n_changes; i++) {
		const struct diff_change *c = &d->changes[i];
		const struct model_object *o = c->after ? c->after : c->before;
		const struct model_kind_info *info = model_kind_info(o->kind);
		char *name = model_object_name_dup(o);
		char *who = c->who ? recorder_who_text(c->who, DIFF_WHO_STATEMENT_MAX) : NULL;

		printf("    %c %s ", c->type == DIFF_ADDED ? '+' : c->type == DIFF_REMOVED ? '-'
			   : c->type == DIFF_RENAMED ? '>' : '~', info ? info->label : "object");
		utf8_escape_fputs(name ? name : "?", strlen(name ? name : "?"), 0, stdout);
		if (c->type == DIFF_MODIFIED) {
			fputs(": ", stdout);
			utf8_escape_fputs(c->attribute, strlen(c->attribute), 0, stdout);
		}
		printf("\n      %s\n", who ? who : c->who ? "?" : RECORDER_UNATTRIBUTED);
		free(who);
		free(name);
	}
	if (recorder_problem(d->recorder))
		printf("    attribution: %s\n", recorder_problem(d->recorder));
out:
	diff_free(d);
	model_free(a);
	model_free(b);
}

static int history_show(const struct cli *c, const char *target)
{
	struct store *s = open_store(c, target, false);
	struct store_history *h = NULL;
	struct store_baseline b;
	bool have_b = false;
	const char *prev = NULL;
	size_t streak = SIZE_MAX, changes = 0, failed = 0;
	struct error err;

	if (!s)
		return EXIT_TROUBLE;
	if (store_history_load(s, &h, &err) < 0) {
		cli_fail("%s", err.text);
		store_free(s);
		return EXIT_TROUBLE;
	}
	have_b = store_baseline_get(s, &b, NULL) == 0;
	printf("%-20s  %-12s  %s\n", "TIME", "SNAPSHOT", "CHANGE");
	for (size_t i = 0; i < h->n; i++) {
		const struct store_run *run = &h->runs[i];
		char when[21], text[256];

		if (run->outcome == STORE_RUN_ERROR) {
			failed++;
			if (streak == SIZE_MAX)
				streak = i;
			continue;
		}
		if (streak != SIZE_MAX) {
			print_error_streak(h, streak, i - 1);
			streak = SIZE_MAX;
		}
		if (prev && strcmp(prev, run->hash) == 0)
			continue;
		isotime_format(run->time, when);
		if (!prev) {
			snprintf(text, sizeof(text), "first snapshot, %zu objects", run->objects);
		} else if (run->summary.known && strcmp(run->from, prev) == 0) {
			summary_text(&run->summary, text, sizeof(text));
			changes++;
		} else {
			snprintf(text, sizeof(text), "changed (no summary: the previous snapshot was not kept)");
			changes++;
		}
		printf("%s  %-12s  %s%s\n", when, short_hash(run->hash), text,
		       have_b && strcmp(b.hash, run->hash) == 0 ? "  [baseline]" : "");
		if (c->who && prev)
			history_who(s, prev, run->hash);
		prev = run->hash;
	}
	if (streak != SIZE_MAX)
		print_error_streak(h, streak, h->n - 1);
	if (h->n) {
		char t0[21], t1[21];
		const struct store_run *latest = store_history_latest(h);

		isotime_format(h->runs[0].time, t0);
		isotime_format(h->runs[h->n - 1].time, t1);
		printf("%zu run%s from %s to %s: %zu change%s, %zu failed", h->n, h->n == 1 ? "" : "s",
		       t0, t1, changes, changes == 1 ? "" : "s", failed);
		if (latest)
			printf("; latest %s", short_hash(latest->hash));
		if (have_b) {
			char when[21];

			isotime_format(b.accepted_at, when);
			printf("; baseline %s (accepted %s by %s)", short_hash(b.hash), when,
			       b.accepted_by ? b.accepted_by : "?");
		}
		printf("\n");
	} else {
		printf("no runs recorded for %s\n", target);
	}
	if (have_b)
		store_baseline_done(&b);
	store_history_free(h);
	store_free(s);
	return fflush(stdout) == 0 ? EXIT_SAME : EXIT_TROUBLE;
}

static int prune_target(const struct cli *c, const char *target)
{
	struct store *s = open_store(c, target, false);
	struct store_prune_result res;
	struct error err;
	int r;

	if (!s)
		return EXIT_TROUBLE;
	if (apply_retention_options(c, s) < 0) {
		store_free(s);
		return EXIT_TROUBLE;
	}
	r = store_prune(s, &res, &err);
	store_free(s);
	if (r < 0) {
		cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	printf("%s: kept %zu snapshot%s, removed %zu; removed %zu history line%s\n", target,
	       res.snapshots_kept, res.snapshots_kept == 1 ? "" : "s", res.snapshots_removed,
	       res.lines_removed, res.lines_removed == 1 ? "" : "s");
	return EXIT_SAME;
}

int cli_cmd_history(const struct cli *c, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "prune") == 0) {
		struct store_options o;
		struct error err;
		char **targets = NULL;
		size_t n = 0;
		int status = EXIT_SAME;

		if (argc > 1) {
			for (int i = 1; i < argc; i++)
				if (prune_target(c, argv[i]) != EXIT_SAME)
					status = EXIT_TROUBLE;
			return fflush(stdout) == 0 ? status : EXIT_TROUBLE;
		}
		if (cli_store_options(c, &o) < 0)
			return EXIT_TROUBLE;
		if (store_list_targets(&o, &targets, &n, &err) < 0) {
			cli_fail("%s", err.text);
			return EXIT_TROUBLE;
		}
		/* One target's trouble is reported and the others are still pruned. */
		for (size_t i = 0; i < n; i++)
			if (prune_target(c, targets[i]) != EXIT_SAME)
				status = EXIT_TROUBLE;
		store_strv_free(targets);
		return fflush(stdout) == 0 ? status : EXIT_TROUBLE;
	}
	if (argc != 1) {
		cli_fail("usage: schemadrift history TARGET [--who] | history prune [TARGET...]");
		return EXIT_TROUBLE;
	}
	return history_show(c, argv[0]);
}

/* ------------------------------------------------------------------ show */

int cli_cmd_show(const struct cli *c, int argc, char **argv)
{
	struct store *s;
	struct model *m = NULL;
	struct store_history *h = NULL;
	struct store_baseline b;
	char hash[65], first[21] = "", last[21] = "";
	size_t runs = 0;
	bool json, have_b;
	struct error err;

	if (argc != 1 || !cli_is_store_ref(argv[0])) {
		cli_fail("usage: schemadrift show TARGET@REF (REF: baseline, latest, a time, a hash "
			 "prefix)");
		return EXIT_TROUBLE;
	}
	json = c->format && strcmp(c->format, "json") == 0;
	if (c->format && !json && strcmp(c->format, "text") != 0) {
		cli_fail("unknown --format '%s' (text or json)", c->format);
		return EXIT_TROUBLE;
	}
	s = open_ref(c, argv[0], hash);
	if (!s)
		return EXIT_TROUBLE;
	if (store_load_snapshot(s, hash, &m, &err) < 0) {
		cli_fail("%s", err.text);
		store_free(s);
		return EXIT_TROUBLE;
	}
	if (json) {
		int r = snapshot_write(m, stdout, &err);

		model_free(m);
		store_free(s);
		if (r < 0) {
			cli_fail("%s", err.text);
			return EXIT_TROUBLE;
		}
		return fflush(stdout) == 0 ? EXIT_SAME : EXIT_TROUBLE;
	}
	if (store_history_load(s, &h, NULL) == 0) {
		for (size_t i = 0; i < h->n; i++) {
			if (h->runs[i].outcome != STORE_RUN_OK || strcmp(h->runs[i].hash, hash) != 0)
				continue;
			if (!runs++)
				isotime_format(h->runs[i].time, first);
			isotime_format(h->runs[i].time, last);
		}
	}
	have_b = store_baseline_get(s, &b, NULL) == 0;
	printf("target:    %s\n", store_target(s));
	printf("snapshot:  %s%s\n", hash, have_b && strcmp(b.hash, hash) == 0 ? " (baseline)" : "");
	printf("taken at:  %s\n", m->taken_at ? m->taken_at : "?");
	if (m->database)
		printf("database:  %s\n", m->database);
	if (m->server_version)
		printf("server:    %s\n", m->server_version);
	if (runs)
		printf("seen:      %zu run%s, %s to %s\n", runs, runs == 1 ? "" : "s", first, last);
	printf("objects:   %zu\n", m->n_objects);
	for (size_t i = 0; i < m->n_objects; i++) {
		const struct model_object *o = &m->objects[i];
		char name[1024];

		model_object_name(o, name, sizeof(name));
		printf("%s %s", model_kind_info(o->kind)->label, name);
		for (size_t k = 0; k < o->n_attrs; k++) {
			char val[512];

			model_value_text(&o->attrs[k].value, val, sizeof(val));
			/* One line per object: multi-line values (view bodies) are cut there. */
			val[strcspn(val, "\n")] = '\0';
			printf("%s %s=%s", k ? "," : ":", o->attrs[k].name, val);
		}
		printf("\n");
	}
	if (have_b)
		store_baseline_done(&b);
	store_history_free(h);
	model_free(m);
	store_free(s);
	return fflush(stdout) == 0 ? EXIT_SAME : EXIT_TROUBLE;
}
