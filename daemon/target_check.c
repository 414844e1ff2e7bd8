/* A target's schema health checks: their own schedule, a run on a worker thread, findings -> check alerts, status and metrics. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/buffer.h>
#include <openssl/evp.h>

#include "ack.h"
#include "isotime.h"
#include "target.h"
#include "dbcheck.h"
#include "fileio.h"
#include "log.h"
#include "worker.h"

/*
 * Why a worker thread and not the loop: a check run is a sequence of
 * statements whose number depends on the schema (one per constraint), each
 * bounded by the server's statement_timeout, each in a savepoint whose
 * outcome decides the next statement.  Driving that as a non-blocking state
 * machine (as catalog.c does for its fixed pipeline) would buy nothing: the
 * run holds no loop state, it produces one report at the end.  So it runs on
 * its own connection with blocking libpq on a worker thread (lib/worker.c,
 * as SMTP delivery does), and only its result comes back to the loop.  The
 * job owns copies of everything it reads, so a reload or a removed target
 * never pulls memory from under it.
 */
#define CHECK_THREADS 2

struct check_job;

struct target_checks {
	struct target *t;
	struct schedule *schedule;
	struct event *timer;
	time_t next_due;
	struct check_job *job;     /* running, or NULL */
	struct alert_state *astate; /* findings and check-run outages, apart from drift */
	char *state_dir;           /* <store>/checks: the alert state */
	json_t *last;              /* the last saved run (checks.json), or NULL */
	time_t last_run;
	char *last_error;
	size_t by_severity[3];     /* unacknowledged findings */
	size_t acknowledged;
	uint64_t runs, failures;
};

struct check_job {
	struct target_checks *tc;  /* NULL once the target is gone */
	char *target, *dsn, *password;
	char **names;
	size_t n_names;
	struct dbcheck_custom_set *customs;
	struct dbcheck_options o;
	int connect_timeout_ms;
	time_t started;
	struct dbcheck_report *report;
	struct error err;
	int r;
};

static void job_free(struct check_job *j)
{
	if (!j)
		return;
	free(j->target);
	free(j->dsn);
	ini_secret_free(j->password);
	for (size_t i = 0; i < j->n_names; i++)
		free(j->names[i]);
	free(j->names);
	dbcheck_custom_set_free(j->customs);
	dbcheck_report_free(j->report);
	free(j);
}

static void job_release(void *arg)
{
	job_free(arg);
}

/* On the worker thread: touches only what the job owns. */
static void job_run(void *arg)
{
	struct check_job *j = arg;
	struct dbcheck_plan *plan = NULL;
	PGconn *conn = NULL;

	j->r = dbcheck_plan_new(j->names, j->n_names, j->customs, j->target, &plan, &j->err);
	if (j->r == 0)
		j->r = dbcheck_connect(j->dsn, j->password, j->connect_timeout_ms, &conn, &j->err);
	if (j->r == 0)
		j->r = dbcheck_run(conn, plan, &j->o, &j->report, &j->err);
	PQfinish(conn);
	dbcheck_plan_free(plan);
}

/* ------------------------------------------------------------- findings */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* SHA-256 hex of the sorted keys of the unacknowledged findings; "none" when there are none. */
static void findings_hash(json_t *findings, char out[65])
{
	size_t n = json_array_size(findings), k = 0, i;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *ctx;
	json_t *f;

	snprintf(out, 65, "none");
	if (!keys)
		return;
	json_array_foreach(findings, i, f) {
		const char *key = json_string_value(json_object_get(f, "key"));
		if (key && !json_is_true(json_object_get(f, "acknowledged")))
			keys[k++] = key;
	}
	qsort(keys, k, sizeof(*keys), cmp_str);
	ctx = EVP_MD_CTX_new();
	if (k && ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		bool ok = true;
		for (size_t a = 0; a < k && ok; a++)
			ok = EVP_DigestUpdate(ctx, keys[a], strlen(keys[a]) + 1);
		if (ok && EVP_DigestFinal_ex(ctx, md, &len))
			for (unsigned int b = 0; b < len && b < 32; b++)
				snprintf(out + 2 * b, 3, "%02x", md[b]);
	}
	EVP_MD_CTX_free(ctx);
	free(keys);
}

/*
 * The findings to act on: this run's, plus the previous run's findings of
 * any check that timed out or failed now (not knowing is not "fixed"),
 * each marked acknowledged when an ack covers its key.
 */
static json_t *merge_findings(struct target_checks *tc, json_t *report)
{
	json_t *now = json_object_get(report, "findings"), *checks = json_object_get(report, "checks");
	json_t *out = json_array(), *c, *f;
	struct ack_set *acks = NULL;
	struct error e;
	size_t i, k;

	if (!out)
		return NULL;
	json_array_extend(out, now);
	json_array_foreach(checks, i, c) {
		const char *st = json_string_value(json_object_get(c, "status"));
		const char *name = json_string_value(json_object_get(c, "name"));
		if (!st || !name || (strcmp(st, "timeout") && strcmp(st, "failed")))
			continue;
		json_array_foreach(json_object_get(tc->last, "findings"), k, f) {
			const char *fc = json_string_value(json_object_get(f, "check"));
			if (fc && strcmp(fc, name) == 0) {
				json_t *copy = json_deep_copy(f);
				json_object_set_new(copy, "carried_over", json_true());
				json_array_append_new(out, copy);
			}
		}
	}
	if (ack_load(tc->t->store, &acks, &e) < 0)
		log_target(LOG_WARNING, tc->t->name, NULL, NULL,
			   "check findings: acknowledgements not applied: %s", e.text);
	json_array_foreach(out, i, f) {
		const char *key = json_string_value(json_object_get(f, "key"));
		json_object_set_new(f, "acknowledged",
				    json_boolean(key && ack_covers_finding(acks, key, time(NULL))));
	}
	ack_set_free(acks);
	return out;
}

static void count_findings(struct target_checks *tc, json_t *findings)
{
	size_t i;
	json_t *f;

	memset(tc->by_severity, 0, sizeof(tc->by_severity));
	tc->acknowledged = 0;
	json_array_foreach(findings, i, f) {
		enum diff_severity s = DIFF_WARNING;
		const char *name = json_string_value(json_object_get(f, "severity"));

		if (json_is_true(json_object_get(f, "acknowledged"))) {
			tc->acknowledged++;
			continue;
		}
		s = name && strcmp(name, "breaking") == 0 ? DIFF_BREAKING
		    : name && strcmp(name, "info") == 0   ? DIFF_INFO
							  : DIFF_WARNING;
		tc->by_severity[s]++;
	}
}

/* "3 findings (1 breaking, 2 warning)" and a line per finding (most severe first). */
static char *summary(const struct target_checks *tc, json_t *findings)
{
	size_t total = tc->by_severity[0] + tc->by_severity[1] + tc->by_severity[2], shown = 0, i;
	char *out = NULL;
	FILE *m;
	size_t len;
	json_t *f;

	m = open_memstream(&out, &len);
	if (!m)
		return NULL;
	fprintf(m, "%zu check finding%s", total, total == 1 ? "" : "s");
	for (int s = DIFF_BREAKING, first = 1; s >= DIFF_INFO; s--)
		if (tc->by_severity[s]) {
			fprintf(m, "%s%zu %s", first ? " (" : ", ", tc->by_severity[s],
				diff_severity_name((enum diff_severity)s));
			first = 0;
		}
	fputs(total ? ")" : "", m);
	for (int s = DIFF_BREAKING; s >= DIFF_INFO; s--)
		json_array_foreach(findings, i, f) {
			const char *sev = json_string_value(json_object_get(f, "severity"));
			if (json_is_true(json_object_get(f, "acknowledged")) || !sev ||
			    strcmp(sev, diff_severity_name((enum diff_severity)s)) != 0 || shown >= 20)
				continue;
			fprintf(m, "\n%s %s: %s", sev, json_string_value(json_object_get(f, "key")),
				json_string_value(json_object_get(f, "message")));
			shown++;
		}
	if (shown < total)
		fprintf(m, "\n... and %zu more", total - shown);
	fclose(m);
	return out;
}

/* The findings as an alert's changes: change "found", kind the check, most severe first. */
static void alert_add_findings(struct alert *a, const struct target_checks *tc, json_t *findings)
{
	size_t n = 0, i, cap = ALERT_MAX_CHANGES;
	json_t *f;

	a->changes = calloc(cap, sizeof(*a->changes));
	if (!a->changes)
		return;
	for (int s = DIFF_BREAKING; s >= DIFF_INFO; s--)
		json_array_foreach(findings, i, f) {
			const char *sev = json_string_value(json_object_get(f, "severity"));
			struct alert_change *c;

			if (json_is_true(json_object_get(f, "acknowledged")) || !sev || n >= cap ||
			    strcmp(sev, diff_severity_name((enum diff_severity)s)) != 0)
				continue;
			c = &a->changes[n++];
			alert_set_str(&c->change, "found");
			alert_set_str(&c->severity, sev);
			alert_set_str(&c->kind, json_string_value(json_object_get(f, "check")));
			alert_set_str(&c->object, json_string_value(json_object_get(f, "object")));
			if (!c->object || !*c->object)
				alert_set_str(&c->object, json_string_value(json_object_get(f, "key")));
		}
	a->n_changes = n;
	memcpy(a->by_severity, tc->by_severity, sizeof(a->by_severity));
	a->total_changes = tc->by_severity[0] + tc->by_severity[1] + tc->by_severity[2];
	a->by_type[DIFF_ADDED] = a->total_changes;
	a->severity = tc->by_severity[DIFF_BREAKING] ? DIFF_BREAKING
		      : tc->by_severity[DIFF_WARNING] ? DIFF_WARNING : DIFF_INFO;
}

/* Check alert-state events into the outbox; the state saved after (as target.c does for drift). */
static void dispatch(struct target_checks *tc, int changed, const struct alert_state_event *ev,
		     size_t n, json_t *findings, const char *message)
{
	struct target *t = tc->t;
	struct error e;

	for (size_t i = 0; i < n; i++) {
		struct alert *a = NULL;
		bool found = ev[i].kind == ALERT_STATE_DRIFT || ev[i].kind == ALERT_STATE_REMINDER;
		int r = alert_state_check_alert_new(tc->astate, &ev[i], message, &a);

		if (r < 0) {
			log_target(LOG_ERR, t->name, NULL, NULL, "cannot build a check alert: %s",
				   strerror(-r));
			continue;
		}
		if (t->cfg->environment)
			alert_set_str(&a->environment, t->cfg->environment);
		if (found && findings)
			alert_add_findings(a, tc, findings);
		if (t->cfg->link_template)
			alert_set_link(a, t->cfg->link_template, &e);
		char *headline = alert_headline(a);
		log_target(ev[i].kind == ALERT_STATE_ERROR ? LOG_ERR : found ? LOG_WARNING : LOG_NOTICE,
			   t->name, found ? LOG_ID_DRIFT : ev[i].kind == ALERT_STATE_ERROR
						       ? LOG_ID_ERROR : LOG_ID_RECOVERED,
			   NULL, "%s", headline ? headline : alert_kind_name(a->kind));
		free(headline);
		target_spool(t, a);
		alert_free(a);
	}
	if (changed > 0 && alert_state_save_store(tc->astate, t->store, "checks", &e) < 0)
		log_target(LOG_ERR, t->name, NULL, NULL, "cannot save the check alert state: %s", e.text);
}

static struct alert_state_options alert_options(const struct target *t)
{
	struct alert_state_options ao = {
		.repeat_interval_s = t->env->cfg->repeat_interval_ms / 1000,
		.error_threshold = (unsigned)t->env->cfg->error_threshold,
	};
	return ao;
}

/* The run as checks.json: the report, with the merged findings and the time. */
static void save_run(struct target_checks *tc, json_t *report, json_t *findings)
{
	char path[4096], when[21];
	struct error e;
	char *text;

	isotime_format(tc->last_run, when);
	json_object_set_new(report, "time", json_string(when));
	json_object_set(report, "findings", findings);
	snprintf(path, sizeof(path), "%s/%s", store_dir(tc->t->store), DBCHECK_SAVED_FILE);
	text = json_dumps(report, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text || fileio_write_atomic(path, text, strlen(text), &e) < 0)
		log_target(LOG_ERR, tc->t->name, NULL, NULL, "cannot save the check run: %s",
			   text ? e.text : "out of memory");
	free(text);
	json_decref(tc->last);
	tc->last = json_incref(report);
}

static void handle_report(struct target_checks *tc, struct dbcheck_report *rep)
{
	struct alert_state_options ao = alert_options(tc->t);
	struct alert_state_event ev[ALERT_STATE_MAX_EVENTS];
	json_t *report = dbcheck_report_to_json(rep), *findings;
	char hash[65], *msg;
	size_t n = 0;

	findings = report ? merge_findings(tc, report) : NULL;
	if (!findings) {
		json_decref(report);
		log_target(LOG_ERR, tc->t->name, NULL, NULL, "check run: out of memory");
		return;
	}
	for (size_t i = 0; i < rep->n_results; i++)
		if (rep->results[i].status == DBCHECK_TIMEOUT || rep->results[i].status == DBCHECK_FAILED)
			log_target(LOG_WARNING, tc->t->name, NULL, NULL, "check %s %s: %s",
				   rep->results[i].name,
				   rep->results[i].status == DBCHECK_TIMEOUT ? "timed out" : "failed",
				   rep->results[i].error ? rep->results[i].error : "");
	count_findings(tc, findings);
	save_run(tc, report, findings);
	findings_hash(findings, hash);
	msg = summary(tc, findings);
	int changed = target_lost_lease(tc->t) || tc->t->state_pending ? -1
		    : alert_state_observe_ok(tc->astate, &ao, "none", hash, time(NULL), ev, &n);
	if (changed >= 0)
		dispatch(tc, changed, ev, n, findings, msg);
	free(msg);
	json_decref(findings);
	json_decref(report);
}

/* Back on the loop. */
static void job_done(void *arg)
{
	struct check_job *j = arg;
	struct target_checks *tc = j->tc;

	if (!tc) {
		job_free(j);
		return;
	}
	tc->job = NULL;
	tc->runs++;
	tc->last_run = j->started;
	free(tc->last_error);
	tc->last_error = NULL;
	if (j->r < 0) {
		struct alert_state_options ao = alert_options(tc->t);
		struct alert_state_event ev[ALERT_STATE_MAX_EVENTS];
		size_t n = 0;

		tc->failures++;
		tc->last_error = strdup(j->err.text);
		log_target(LOG_WARNING, tc->t->name, NULL, NULL, "check run failed: %s", j->err.text);
		int changed = target_lost_lease(tc->t) || tc->t->state_pending ? -1
			    : alert_state_observe_error(tc->astate, &ao, time(NULL), ev, &n);
		if (changed >= 0)
			dispatch(tc, changed, ev, n, NULL, j->err.text);
	} else {
		handle_report(tc, j->report);
	}
	job_free(j);
}

/* ------------------------------------------------------------- schedule */

static int dup_list(char *const *from, size_t n, char ***ret)
{
	char **l = calloc(n ? n : 1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(l[i] = strdup(from[i]))) {
			while (i-- > 0)
				free(l[i]);
			free(l);
			return -ENOMEM;
		}
	*ret = l;
	return 0;
}

static void start_job(struct target_checks *tc)
{
	struct target *t = tc->t;
	const struct config_target *c = t->cfg;
	struct check_job *j = calloc(1, sizeof(*j));
	const struct target_env *env = t->env;
	struct error e;

	if (!j)
		goto oom;
	j->tc = tc;
	j->started = time(NULL);
	j->connect_timeout_ms = (int)env->cfg->connect_timeout_ms;
	j->o.statement_timeout_ms = (int)c->check_statement_timeout_ms;
	j->o.lock_timeout_ms = (int)c->check_lock_timeout_ms;
	j->o.sample_rows = c->check_sample_rows;
	j->o.sample_above = c->check_sample_above ? c->check_sample_above : -1;
	j->o.exact_counts = c->check_exact_counts;
	j->o.all_constraints = c->check_all_constraints;
	if (!(j->target = strdup(t->name)) || !(j->dsn = strdup(c->check_dsn ? c->check_dsn : c->dsn)) ||
	    (t->password && !(j->password = strdup(t->password))) ||
	    dup_list(c->checks, c->n_checks, &j->names) < 0)
		goto oom;
	j->n_names = c->n_checks;
	if (dbcheck_custom_set_dup(env->customs, &j->customs) < 0)
		goto oom;
	if (!*env->check_worker && worker_new(env->base, CHECK_THREADS, env->check_worker, &e) < 0) {
		log_target(LOG_ERR, t->name, NULL, NULL, "cannot start a check worker: %s", e.text);
		job_free(j);
		return;
	}
	if (worker_submit(*env->check_worker, job_run, job_done, job_release, j) < 0)
		goto oom;
	tc->job = j;
	log_target(LOG_INFO, t->name, NULL, NULL, "checks started (%zu)", c->n_checks);
	return;
oom:
	job_free(j);
	log_target(LOG_ERR, t->name, NULL, NULL, "cannot start the checks: out of memory");
}

static void arm(struct target_checks *tc)
{
	time_t now = time(NULL), next;
	int jitter = schedule_jitter(tc->schedule, tc->t->name,
				     (int)(tc->t->env->cfg->jitter_ms / 1000));
	int64_t delay;
	struct timeval tv;

	if (schedule_next(tc->schedule, now - jitter, &next) < 0)
		next = now + 86400;
	next += jitter;
	if (next <= now)
		next = now + 1;
	tc->next_due = next;
	/* Woken at least once a minute: the monotonic timer stops while the machine sleeps. */
	delay = (int64_t)(next - now) * 1000;
	if (delay > 60000)
		delay = 60000;
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(tc->timer, &tv);
}

static void on_due(evutil_socket_t fd, short what, void *arg)
{
	struct target_checks *tc = arg;

	(void)fd;
	(void)what;
	if (!tc->next_due) { /* (re)configured: the daemon's configuration is in place now */
		arm(tc);
		return;
	}
	if (time(NULL) < tc->next_due) {
		struct timeval tv = { 1, 0 };
		int64_t left = (int64_t)(tc->next_due - time(NULL));
		tv.tv_sec = left > 60 ? 60 : left;
		evtimer_add(tc->timer, &tv);
		return;
	}
	/* A run still going absorbs this one, as snapshot runs do.  With several
	 * daemons only the lease holder checks (docs/operations.md). */
	if (!tc->job && tc->t->cfg->enabled && tc->t->cfg->n_checks && target_may_start(tc->t))
		start_job(tc);
	arm(tc);
}

static void load_last(struct target_checks *tc)
{
	char path[4096], *text = NULL;
	size_t len;
	json_error_t je;

	snprintf(path, sizeof(path), "%s/%s", store_dir(tc->t->store), DBCHECK_SAVED_FILE);
	if (fileio_read_all(path, &text, &len, NULL) == 0) {
		tc->last = json_loadb(text, len, 0, &je);
		if (tc->last)
			count_findings(tc, json_object_get(tc->last, "findings"));
	}
	free(text);
}

int target_checks_configure(struct target *t, struct schedule *s, struct error *err)
{
	struct target_checks *tc = t->checks;
	int r = 0;

	if (!t->cfg->n_checks && !tc) {
		schedule_free(s);
		return 0;
	}
	if (!tc) {
		tc = calloc(1, sizeof(*tc));
		if (!tc || asprintf(&tc->state_dir, "%s/checks", store_dir(t->store)) < 0) {
			free(tc);
			schedule_free(s);
			return error_set(err, -ENOMEM, "out of memory");
		}
		tc->t = t;
		tc->timer = evtimer_new(t->env->base, on_due, tc);
		if (!tc->timer)
			r = error_set(err, -ENOMEM, "out of memory");
		else if (mkdir(tc->state_dir, 0750) < 0 && errno != EEXIST)
			r = error_set(err, -errno, "%s: %s", tc->state_dir, strerror(errno));
		else
			r = target_load_state(t, "checks", &tc->astate, err);
		if (r < 0) {
			if (tc->timer)
				event_free(tc->timer);
			free(tc->state_dir);
			free(tc);
			schedule_free(s);
			return r;
		}
		load_last(tc);
		t->checks = tc;
	}
	schedule_free(tc->schedule);
	tc->schedule = s;
	tc->next_due = 0;
	evtimer_del(tc->timer);
	if (t->cfg->n_checks && t->cfg->enabled) {
		/* Armed from the loop: during startup or a reload the target's
		 * environment does not hold the new configuration yet (jitter). */
		struct timeval now = { 0, 0 };
		evtimer_add(tc->timer, &now);
	}
	return 0;
}

int target_checks_reload_state(struct target *t, struct error *err)
{
	struct target_checks *tc = t->checks;
	struct alert_state *st = NULL;
	int r;

	if (!tc)
		return 0;
	if ((r = alert_state_load_store(t->store, "checks", &st, err)) < 0)
		return r;
	alert_state_free(tc->astate);
	tc->astate = st;
	return 0;
}

void target_checks_free(struct target *t)
{
	struct target_checks *tc = t->checks;

	if (!tc)
		return;
	if (tc->job)
		tc->job->tc = NULL; /* the worker frees it when it comes back */
	event_free(tc->timer);
	schedule_free(tc->schedule);
	alert_state_free(tc->astate);
	json_decref(tc->last);
	free(tc->state_dir);
	free(tc->last_error);
	free(tc);
	t->checks = NULL;
}

int target_checks_run_now(struct target *t)
{
	if (!t->checks || !t->cfg->n_checks)
		return -ENOENT;
	if (!target_may_run(t))
		return -EREMOTE;
	if (t->checks->job)
		return 0;
	if (!target_may_start(t)) /* held, but not for long enough: the next holder checks */
		return -EREMOTE;
	start_job(t->checks);
	return t->checks->job ? 1 : -ENOMEM;
}

bool target_checks_running(const struct target *t)
{
	return t->checks && t->checks->job;
}

/* -------------------------------------------------------- status, metrics */

json_t *target_checks_status_json(const struct target *t)
{
	const struct target_checks *tc = t->checks;
	char last[21] = "", next[21] = "";
	json_t *list, *f;
	size_t i;

	if (!tc)
		return json_null();
	if (tc->last_run)
		isotime_format(tc->last_run, last);
	if (t->cfg->n_checks && tc->next_due)
		isotime_format(tc->next_due, next);
	list = json_array();
	json_array_foreach(json_object_get(tc->last, "findings"), i, f)
		json_array_append_new(list, json_pack("{s:O?, s:O?, s:O?, s:O?}", "key",
						      json_object_get(f, "key"), "severity",
						      json_object_get(f, "severity"), "message",
						      json_object_get(f, "message"), "acknowledged",
						      json_object_get(f, "acknowledged")));
	return json_pack("{s:s, s:s, s:s, s:s?, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
			 "schedule", t->cfg->checks_schedule, "last_run", last, "next_run", next,
			 "last_error", tc->last_error, "running", tc->job != NULL, "findings",
			 (json_int_t)(tc->by_severity[0] + tc->by_severity[1] + tc->by_severity[2]),
			 "breaking", (json_int_t)tc->by_severity[DIFF_BREAKING], "warning",
			 (json_int_t)tc->by_severity[DIFF_WARNING], "info",
			 (json_int_t)tc->by_severity[DIFF_INFO], "acknowledged",
			 (json_int_t)tc->acknowledged, "runs", (json_int_t)tc->runs, "list", list);
}

void target_checks_metrics(struct target *const *targets, size_t n, struct evbuffer *b,
			   void (*label)(struct evbuffer *b, const char *v))
{
	static const char *const sev[] = { "info", "warning", "breaking" };

	evbuffer_add_printf(b, "# HELP schemadrift_check_findings Unacknowledged check findings.\n"
			       "# TYPE schemadrift_check_findings gauge\n");
	for (size_t i = 0; i < n; i++)
		for (int s = 0; targets[i]->checks && s < 3; s++) {
			evbuffer_add_printf(b, "schemadrift_check_findings{target=\"");
			label(b, targets[i]->name);
			evbuffer_add_printf(b, "\",severity=\"%s\"} %zu\n", sev[s],
					    targets[i]->checks->by_severity[s]);
		}
	static const struct {
		const char *name, *help, *type;
	} per[] = {
		{ "schemadrift_check_findings_acknowledged", "Acknowledged check findings.", "gauge" },
		{ "schemadrift_check_runs_total", "Check runs done.", "counter" },
		{ "schemadrift_check_run_failures_total", "Check runs that could not run.", "counter" },
		{ "schemadrift_check_last_run_timestamp_seconds", "When the checks last ran.", "gauge" },
	};
	for (size_t k = 0; k < sizeof(per) / sizeof(per[0]); k++) {
		evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", per[k].name, per[k].help,
				    per[k].name, per[k].type);
		for (size_t i = 0; i < n; i++) {
			const struct target_checks *tc = targets[i]->checks;
			if (!tc)
				continue;
			double v = k == 0 ? (double)tc->acknowledged : k == 1 ? (double)tc->runs
				 : k == 2 ? (double)tc->failures : (double)tc->last_run;
			evbuffer_add_printf(b, "%s{target=\"", per[k].name);
			label(b, targets[i]->name);
			evbuffer_add_printf(b, "\"} %.17g\n", v);
		}
	}
}
