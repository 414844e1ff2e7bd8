/* One monitored database: schedule, pooled connection, probe -> snapshot -> store -> alerts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ack.h"
#include "alert_log.h"
#include "diff.h"
#include "diff_server.h"
#include "fileio.h"
#include "isotime.h"
#include "log.h"
#include "recorder.h"
#include "snapshot.h"
#include "target_verify.h"
#include "target.h"
#include "utf8.h"

static void on_due(evutil_socket_t fd, short what, void *arg);
static void finish_run(struct target *t);
static int reload_states(struct target *t, struct error *err);
static void verify_dispatch(struct target *t, struct alert_state *st, const char *sub,
			    int changed, const struct alert_state_event *ev, size_t n,
			    json_t *diff_json, const char *message);

/* Something the history report shows happened: the daemon rewrites it (docs/report.md). */
static void report_changed(struct target *t)
{
	if (t->env->changed)
		t->env->changed(t, t->env->arg);
}

/* Baseline accepts and acknowledgements append to the target's audit log (in
 * the central store, perhaps by another host's CLI). */
static long long audit_size(const struct target *t)
{
	return store_audit_mark(t->store);
}

static void on_idle(evutil_socket_t fd, short what, void *arg);
static void on_settle(evutil_socket_t fd, short what, void *arg);

/*
 * A problem with the target's own store that no run will clear by itself
 * (an alert-state file that had to be moved aside): logged as an error and
 * sent as an error alert, never mistaken for drift.
 */
static void store_problem(struct target *t, const char *what)
{
	struct alert *a = NULL;
	char *key = NULL;

	log_target(LOG_ERR, t->name, LOG_ID_ERROR, NULL, "%s", what);
	if (alert_new(ALERT_ERROR, t->name, &a) < 0)
		return;
	if (alert_set_str(&a->message, what) == 0 &&
	    asprintf(&key, "schemadrift:%s:store:%lld", t->name, (long long)time(NULL)) >= 0) {
		free(a->dedup_key);
		a->dedup_key = key;
		a->severity = DIFF_BREAKING;
		if (t->cfg->environment)
			a->environment = strdup(t->cfg->environment);
		target_spool(t, a);
	}
	alert_free(a);
}

static int add_patterns(char ***list, size_t *n, char *const *items, size_t k)
{
	for (size_t i = 0; i < k; i++)
		if (filter_add(list, n, items[i]) < 0)
			return -ENOMEM;
	return 0;
}

/*
 * Prefixes err with where key is set for target t: its own line, or the
 * [daemon] default it inherits, or else the section.  Returns err->code.
 */
static int key_error_prefix(const struct config *c, const struct config_target *t,
			    const char *key, struct error *err)
{
	const struct ini_section *s = ini_find(c->raw, "target", t->name);
	const struct ini_kv *kv = s ? ini_get(s, key) : NULL;

	if (!kv && (s = ini_find(c->raw, "daemon", NULL)))
		kv = ini_get(s, key);
	if (kv)
		return error_prefix(err, "%s:%d: [target %s] key '%s'", kv->file, kv->line, t->name,
				    key);
	return error_prefix(err, "%s:%d: [target %s] key '%s'", t->file, t->line, t->name, key);
}

int target_setup_build(const struct config *c, const struct config_target *cfg,
		       struct target_setup *ret, struct error *err)
{
	struct target_setup s = { 0 };
	struct filter *f = &s.filter;
	int r;

	filter_init(f);
	r = schedule_parse(cfg->schedule, &s.schedule, err);
	if (r < 0)
		key_error_prefix(c, cfg, "schedule", err);
	if (r == 0 && (r = schedule_set_zone(s.schedule, cfg->timezone, err)) < 0)
		key_error_prefix(c, cfg, "timezone", err);
	if (r == 0 &&
	    (add_patterns(&f->include, &f->n_include, cfg->include, cfg->n_include) < 0 ||
	     add_patterns(&f->exclude, &f->n_exclude, cfg->exclude, cfg->n_exclude) < 0 ||
	     add_patterns(&f->include_schema, &f->n_include_schema, cfg->include_schema,
			  cfg->n_include_schema) < 0 ||
	     add_patterns(&f->exclude_schema, &f->n_exclude_schema, cfg->exclude_schema,
			  cfg->n_exclude_schema) < 0))
		r = error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < cfg->n_ignore; i++)
		if ((r = filter_parse_ignore(f, cfg->ignore[i], err)) < 0)
			key_error_prefix(c, cfg, "ignore", err);
	if (r == 0 && (cfg->expected || cfg->expected_cmd) &&
	    ((r = schedule_parse(cfg->verify_schedule, &s.verify_schedule, err)) < 0 ||
	     (r = schedule_set_zone(s.verify_schedule, cfg->timezone, err)) < 0))
		key_error_prefix(c, cfg, "verify_schedule", err);
	if (r == 0 && ((r = schedule_parse(cfg->checks_schedule, &s.checks_schedule, err)) < 0 ||
		       (r = schedule_set_zone(s.checks_schedule, cfg->timezone, err)) < 0))
		key_error_prefix(c, cfg, "checks_schedule", err);
	if (r < 0) {
		target_setup_done(&s);
		return r;
	}
	*ret = s;
	return 0;
}

int target_setup_read_password(const struct config *c, const struct config_target *cfg,
			       struct target_setup *s, struct error *err)
{
	const struct ini_section *sec = ini_find(c->raw, "target", cfg->name);
	const struct ini_kv *kv = sec ? ini_get(sec, "password") : NULL;
	char *password = NULL;
	int r;

	if (!cfg->password_source || !kv)
		return 0;
	r = ini_secret(kv, &password, err);
	if (r < 0)
		return r;
	ini_secret_free(s->password);
	s->password = password;
	return 0;
}

void target_setup_done(struct target_setup *s)
{
	schedule_free(s->schedule);
	schedule_free(s->verify_schedule);
	schedule_free(s->checks_schedule);
	filter_done(&s->filter);
	ini_secret_free(s->password);
	memset(s, 0, sizeof(*s));
}

/* Takes what setup built (leaving it empty) but the verify schedule, which it
 * returns (for target_verify_setup); cannot fail. */
static struct schedule *take_setup(struct target *t, struct config_target *cfg,
				   struct target_setup *setup)
{
	struct schedule *verify_schedule = setup->verify_schedule;

	t->cfg = cfg;
	schedule_free(t->schedule);
	t->schedule = setup->schedule;
	filter_done(&t->filter);
	t->filter = setup->filter;
	ini_secret_free(t->password);
	t->password = setup->password;
	memset(setup, 0, sizeof(*setup));
	filter_init(&setup->filter);
	return verify_schedule;
}

int target_new(const struct target_env *env, const char *state_dir, struct config_target *cfg,
	       struct target_setup *setup, struct target **ret, struct error *err)
{
	struct target *t = calloc(1, sizeof(*t));
	struct store_options so = { .state_dir = state_dir, .central = env->central };
	int r;

	if (!t)
		return error_set(err, -ENOMEM, "out of memory");
	t->env = env;
	filter_init(&t->filter);
	t->name = strdup(cfg->name);
	t->due_timer = evtimer_new(env->base, on_due, t);
	t->idle_timer = evtimer_new(env->base, on_idle, t);
	t->settle_timer = evtimer_new(env->base, on_settle, t);
	if (!t->name || !t->due_timer || !t->idle_timer || !t->settle_timer) {
		target_free(t);
		return error_set(err, -ENOMEM, "out of memory");
	}
	struct schedule *checks_schedule = setup->checks_schedule;
	setup->checks_schedule = NULL;
	struct schedule *verify_schedule = take_setup(t, cfg, setup);
	if ((r = store_open(&so, t->name, true, &t->store, err)) < 0) {
		schedule_free(verify_schedule);
		schedule_free(checks_schedule);
		target_free(t);
		return r;
	}
	r = target_load_state(t, NULL, &t->astate, err);
	if (r < 0 && r != -ENOMEM) {
		/* An unusable state file never drops the target: it moves aside,
		 * the target starts afresh, and the operator is told twice. */
		char *name, moved[4200], what[2048];
		struct error qe;

		name = store_is_central(t->store) ? strdup("alert-state.json")
						  : alert_state_file_name(t->name);
		if (!name)
			snprintf(moved, sizeof(moved), "nowhere (out of memory)");
		else if (store_quarantine(t->store, name, moved, sizeof(moved), &qe) < 0)
			snprintf(moved, sizeof(moved), "nowhere (%s)", qe.text);
		free(name);
		snprintf(what, sizeof(what),
			 "the alert state cannot be used (%s): moved to %s; starting with a fresh "
			 "state", err->text, moved);
		error_clear(err);
		r = alert_state_new(t->name, &t->astate);
		if (r == 0)
			store_problem(t, what);
	}
	if (r == 0)
		r = target_verify_setup(t, verify_schedule, verify_dispatch, err);
	else
		schedule_free(verify_schedule);
	if (r == 0)
		r = target_checks_configure(t, checks_schedule, err);
	else
		schedule_free(checks_schedule);
	if (r < 0) {
		target_free(t);
		return error_set(err, r, "target '%s': %s", cfg->name, strerror(-r));
	}
	/* Resume from the last recorded hash; the fingerprint is not kept, so the first
	 * run is a full snapshot. */
	struct store_history *h = NULL;
	struct error herr;
	if (store_history_load(t->store, &h, &herr) == 0) {
		for (size_t i = h->n; i-- > 0;)
			if (h->runs[i].outcome == STORE_RUN_OK && h->runs[i].hash[0]) {
				memcpy(t->last_hash, h->runs[i].hash, 65);
				break;
			}
		store_history_free(h);
	}
	*ret = t;
	return 0;
}

void target_reconfigure(struct target *t, struct config_target *cfg, struct target_setup *setup)
{
	bool dsn_changed = strcmp(t->cfg->dsn, cfg->dsn) != 0;
	struct schedule *checks_schedule = setup->checks_schedule;
	struct error e;

	setup->checks_schedule = NULL;
	if (target_verify_setup(t, take_setup(t, cfg, setup), verify_dispatch, &e) < 0)
		log_target(LOG_ERR, t->name, NULL, NULL, "verify: %s", e.text);
	/* Only the checks' state directory or memory can fail here; the snapshot runs go on. */
	if (target_checks_configure(t, checks_schedule, &e) < 0)
		log_target(LOG_ERR, t->name, NULL, NULL, "checks not reconfigured: %s", e.text);
	if (dsn_changed && t->conn) {
		PQfinish(t->conn);
		t->conn = NULL;
	}
}

void target_free(struct target *t)
{
	if (!t)
		return;
	target_checks_free(t);
	live_snapshot_free(t->live);
	target_verify_free(t->verify);
	if (t->conn)
		PQfinish(t->conn);
	if (t->due_timer)
		event_free(t->due_timer);
	if (t->idle_timer)
		event_free(t->idle_timer);
	if (t->settle_timer)
		event_free(t->settle_timer);
	schedule_free(t->schedule);
	filter_done(&t->filter);
	store_free(t->store);
	alert_state_free(t->astate);
	ini_secret_free(t->password);
	free(t->fingerprint);
	free(t->last_error);
	free(t->holder);
	free(t->name);
	model_free(t->baseline);
	free(t);
}

static int64_t clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

/*
 * Arms the due timer for next_due_ms, waking at least once a minute: libevent's
 * timers run on the monotonic clock, which stops while the machine sleeps,
 * so the wall clock is checked again on each wakeup (on_due).
 */
static void arm_due(struct target *t)
{
	int64_t delay = t->next_due_ms - wall_ms();
	struct timeval tv;

	if (delay < 0)
		delay = 0;
	if (delay > 60000)
		delay = 60000;
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(t->due_timer, &tv);
}

void target_schedule_next(struct target *t, bool run_now)
{
	time_t now = time(NULL), next;
	int jitter = schedule_jitter(t->schedule, t->name,
				     (int)(t->env->cfg->jitter_ms / 1000));

	if (!t->cfg->enabled) {
		evtimer_del(t->due_timer);
		return;
	}
	if (!run_now) {
		/* The schedule's fire times shifted by this target's stable offset. */
		if (schedule_next(t->schedule, now - jitter, &next) < 0)
			next = now + 300;
		next += jitter;
		if (next <= now)
			next = now + 1;
		t->next_due_ms = (int64_t)next * 1000;
	} else {
		/* A new target runs at once, shifted by its own jitter: a fleet
		 * that starts together does not all run in the same second. */
		t->next_due_ms = (int64_t)(now + jitter) * 1000;
	}
	arm_due(t);
}

static void on_due(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;

	(void)fd;
	(void)what;
	if (wall_ms() < t->next_due_ms) {
		/* A once-a-minute wakeup, not due yet. */
		arm_due(t);
		return;
	}
	if (!target_may_start(t)) {
		/* Another daemon checks it (or nobody may, the coordination
		 * database being away, or not for long enough to start a run):
		 * the schedule goes on, the run does not. */
		target_schedule_next(t, false);
		return;
	}
	if (!t->running && !t->queued)
		t->due_ms = t->next_due_ms;
	/* A run that is still going absorbs this one: never two at once, and a
	 * run missed while busy happens once, not as a burst. */
	if (t->running)
		t->pending = true;
	else
		t->env->due(t, t->env->arg);
	target_schedule_next(t, false);
}

static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;

	(void)fd;
	(void)what;
	if (t->conn && !t->running) {
		PQfinish(t->conn);
		t->conn = NULL;
	}
}

static void on_live_done(struct model *m, const struct error *err, void *arg);

static void start_snapshot(struct target *t, bool probe)
{
	const struct config_daemon *dc = t->env->cfg;
	struct live_options o = {
		.dsn = t->cfg->dsn,
		.connect_timeout_ms = (int)dc->connect_timeout_ms,
		.catalog = { .lock_timeout_ms = (int)dc->lock_timeout_ms,
			     .statement_timeout_ms = (int)dc->statement_timeout_ms,
			     .partitions_full = strcmp(t->cfg->partitions, "full") == 0,
			     .probe_only = probe,
			     .recorder_since = t->recorder_since[0] ? t->recorder_since : NULL },
		.filter = &t->filter,
		.password = t->password,
		.conn = t->conn,
		/* The server's statement_timeout should fire first; this is for a
		 * server that stopped answering altogether. */
		.read_timeout_ms = (int)dc->statement_timeout_ms + 5000,
	};
	struct error e;
	int r;

	t->phase = probe ? PHASE_PROBE : t->phase == PHASE_CONFIRM ? PHASE_CONFIRM : PHASE_FULL;
	t->reused = t->conn != NULL;
	t->conn = NULL; /* the snapshot owns it now */
	evtimer_del(t->idle_timer);
	r = live_snapshot_start(t->env->base, &o, on_live_done, t, &t->live);
	if (r < 0) {
		error_set(&e, r, "cannot start a snapshot: %s", strerror(-r));
		on_live_done(NULL, &e, t);
	}
}

void target_start_run(struct target *t)
{
	const struct config_daemon *dc = t->env->cfg;
	int64_t now = wall_ms();
	int64_t late = t->due_ms ? now - t->due_ms : 0;
	bool probe;

	t->running = true;
	t->pending = false;
	t->run_audit_size = audit_size(t);
	t->started_mono_ms = isotime_mono_ms();
	t->started_ms = now;
	/* How late this run starts against its due time (timer and queue).  Not
	 * the first run: at startup every target is due at once, by design. */
	if (t->runs > 0 && late > t->worst_lag_ms)
		t->worst_lag_ms = late;
	t->due_ms = 0;
	if (t->state_pending) {
		struct error e;

		if (reload_states(t, &e) < 0) {
			/* No alert state to observe with: the run ends here, said once a run. */
			char *why = utf8_escape_dup(e.text, 0);

			log_target(LOG_ERR, t->name, NULL, NULL,
				   "run skipped: the alert state cannot be read: %s", why ? why : "");
			t->failures++;
			t->failing = true;
			free(t->last_error);
			t->last_error = why;
			finish_run(t);
			return;
		}
		log_target(LOG_NOTICE, t->name, NULL, NULL, "alert states read from the store");
	}
	/* Most runs find nothing changed: the probe first, unless a full
	 * snapshot is due anyway (full_every; 0 means every run) or there is
	 * nothing to compare. */
	probe = t->fingerprint && t->last_hash[0] && !t->failing && !t->candidate[0] &&
		dc->full_every_ms > 0 && now - t->last_full_ms < dc->full_every_ms;
	t->phase = PHASE_FULL;
	start_snapshot(t, probe);
}

static int64_t elapsed_ms(const struct target *t)
{
	return isotime_mono_ms() - t->started_mono_ms;
}

static void finish_run(struct target *t)
{
	t->audit_size = t->run_audit_size;
	t->running = false;
	t->runs++;
	t->last_run_ms = t->started_ms;
	t->last_duration_ms = elapsed_ms(t);
	if (t->conn && t->env->cfg->idle_timeout_ms > 0 && target_may_run(t)) {
		struct timeval tv = { t->env->cfg->idle_timeout_ms / 1000,
				      (t->env->cfg->idle_timeout_ms % 1000) * 1000 };
		evtimer_add(t->idle_timer, &tv);
	} else if (t->conn) {
		PQfinish(t->conn);
		t->conn = NULL;
	}
	t->env->finished(t, t->env->arg);
}

/* Turns alert-state events into alerts and spools them (fsync'd) for delivery;
 * saves the state when the observation changed it (changed > 0), events or not:
 * a count of consecutive failures must survive a restart too. */
static void target_dispatch(struct target *t, struct alert_state *st, const char *sub,
			    int changed, const struct alert_state_event *ev, size_t n,
			    const struct diff *d, json_t *diff_json, const char *message)
{
	for (size_t i = 0; i < n; i++) {
		struct alert *a = NULL;
		struct error e;
		int r = alert_state_alert_new(st, &ev[i], message, &a);

		if (r < 0) {
			log_target(LOG_ERR, t->name, NULL, NULL, "cannot build an alert: %s",
				   strerror(-r));
			continue;
		}
		if (t->cfg->environment)
			a->environment = strdup(t->cfg->environment);
		if (d && (ev[i].kind == ALERT_STATE_DRIFT || ev[i].kind == ALERT_STATE_REMINDER))
			alert_set_diff(a, d);
		if (diff_json && (ev[i].kind == ALERT_STATE_DRIFT || ev[i].kind == ALERT_STATE_REMINDER))
			alert_set_diff_json(a, diff_json, &e);
		if (t->cfg->link_template)
			alert_set_link(a, t->cfg->link_template, &e);
		const char *id = ev[i].kind == ALERT_STATE_DRIFT || ev[i].kind == ALERT_STATE_REMINDER
					 ? LOG_ID_DRIFT
				 : ev[i].kind == ALERT_STATE_ERROR ? LOG_ID_ERROR : LOG_ID_RECOVERED;
		char *headline = alert_headline(a);
		/* Drift warns, an outage is an error, a recovery is good news. */
		log_target(ev[i].kind == ALERT_STATE_ERROR ? LOG_ERR
			   : ev[i].kind == ALERT_STATE_DRIFT_RECOVERED ||
				     ev[i].kind == ALERT_STATE_ERROR_RECOVERED ? LOG_NOTICE
			   : LOG_WARNING, t->name, id,
			   ev[i].current[0] ? ev[i].current : NULL, "%s",
			   headline ? headline : alert_kind_name(a->kind));
		free(headline);
		target_spool(t, a);
		alert_free(a);
	}
	struct error se;
	if (changed > 0 && alert_state_save_store(st, t->store, sub, &se) < 0)
		log_target(LOG_ERR, t->name, NULL, NULL, "cannot save the alert state: %s", se.text);
	/* The drift state follows the target's lease to the next daemon. */
	if (changed > 0 && st == t->astate && t->env->state_saved)
		t->env->state_saved(t, t->env->arg);
}

/* The baseline in force, for the next daemon to take over (once per hash). */
static void baseline_seen(struct target *t, const char *hash)
{
	if (!t->env->baseline_seen || strcmp(t->published_baseline, hash) == 0)
		return;
	snprintf(t->published_baseline, sizeof(t->published_baseline), "%s", hash);
	t->env->baseline_seen(t, hash, t->env->arg);
}

/* A publish that failed (fleet.c cleared published_baseline) is tried again by
 * every run, a probe that found nothing changed too. */
static void baseline_retry(struct target *t)
{
	struct store_baseline b = { 0 };
	struct error e;

	if (t->env->baseline_seen && !t->published_baseline[0] &&
	    store_baseline_get(t->store, &b, &e) == 0 && b.hash[0])
		baseline_seen(t, b.hash);
	store_baseline_done(&b);
}

static void dispatch(struct target *t, int changed, const struct alert_state_event *ev, size_t n,
		     const struct diff *d, const char *message)
{
	target_dispatch(t, t->astate, NULL, changed, ev, n, d, NULL, message);
}

/* target_verify.c's mismatch events, through the same policy, outbox and log. */
static void verify_dispatch(struct target *t, struct alert_state *st, const char *sub,
			    int changed, const struct alert_state_event *ev, size_t n,
			    json_t *diff_json, const char *message)
{
	target_dispatch(t, st, sub, changed, ev, n, NULL, diff_json, message);
}

/* To every notifier of the target, through the durable outbox. */
void target_spool(struct target *t, struct alert *a)
{
	struct error e = { 0 };

	t->env->spool(a, t->cfg->notifiers, t->cfg->n_notifiers, t->env->arg);
	/* For the report's timeline (docs/report.md). */
	if (alert_log_append(store_dir(t->store), a, (const char *const *)t->cfg->notifiers,
			     t->cfg->n_notifiers, &e) < 0)
		log_target(LOG_WARNING, t->name, NULL, NULL, "cannot log the alert: %s", e.text);
}

static void run_failed(struct target *t, const char *raw)
{
	/* Error texts quote servers and files: escaped once, here, for the log,
	 * history, status and the alert alike (and valid UTF-8 for JSON). */
	char *why = utf8_escape_dup(raw, 0);
	struct store_record rec = { .started = (time_t)(t->started_ms / 1000),
				    .duration_ms = elapsed_ms(t) };
	struct alert_state_event ev[ALERT_STATE_MAX_EVENTS];
	struct alert_state_options ao = {
		.repeat_interval_s = t->env->cfg->repeat_interval_ms / 1000,
		.error_threshold = (unsigned)t->env->cfg->error_threshold,
	};
	size_t n = 0;
	struct error e;

	if (!why)
		why = strdup("out of memory");
	t->failures++;
	t->failing = true;
	free(t->last_error);
	t->last_error = why;
	rec.error = why;
	log_target(LOG_WARNING, t->name, NULL, NULL, "run failed: %s", why);
	if (store_record_run(t->store, &rec, NULL, &e) < 0)
		log_target(LOG_ERR, t->name, NULL, NULL, "cannot record the run: %s", e.text);
	int changed = target_lost_lease(t) ? -1
		    : alert_state_observe_error(t->astate, &ao, time(NULL), ev, &n);
	if (changed >= 0)
		dispatch(t, changed, ev, n, NULL, why);
	finish_run(t);
	if (n)
		report_changed(t);
}

/* The baseline's model (t keeps it): read from the store only when the baseline changed. */
static int baseline_model(struct target *t, const char *hash, struct model **ret, struct error *e)
{
	if (!t->baseline || strcmp(t->baseline_hash, hash) != 0) {
		struct model *m;

		if (store_load_snapshot(t->store, hash, &m, e) < 0)
			return -1;
		model_free(t->baseline);
		t->baseline = m;
		snprintf(t->baseline_hash, sizeof(t->baseline_hash), "%s", hash);
	}
	*ret = t->baseline;
	return 0;
}

/* The notices' memory in the alert state changed (alert_state.h): saved, and
 * handed to the next holder, like an observation's change. */
static void save_notices(struct target *t)
{
	target_dispatch(t, t->astate, NULL, 1, NULL, 0, NULL, NULL, NULL);
}

static void remember_major(struct target *t, int major)
{
	if (t->astate->server_major != major) {
		t->astate->server_major = major;
		save_notices(t);
	}
}

/* A notice outside the drift and error states (upgraded, recorder): logged
 * with its headline, and spooled to the target's notifiers. */
static void spool_notice(struct target *t, enum alert_kind kind, const char *msg, int level,
			 const char *log_id)
{
	struct alert *a = NULL;

	if (alert_new(kind, t->name, &a) == 0 && alert_set_str(&a->message, msg) == 0) {
		struct error le;

		if (t->cfg->environment)
			a->environment = strdup(t->cfg->environment);
		if (t->cfg->link_template)
			alert_set_link(a, t->cfg->link_template, &le);
		char *headline = alert_headline(a);

		log_target(level, t->name, log_id, NULL, "%s", headline ? headline : msg);
		free(headline);
		target_spool(t, a);
	}
	alert_free(a);
}

/*
 * The server's major version changed since the last full snapshot (an
 * upgrade in place, or a dump restored into a newer server): logged, and
 * one `upgraded` notice saying from which major to which, and how many
 * definitions the new server renders differently from the old snapshot.
 * Drift goes on being alerted as before: diff() sets those renderings
 * apart, and they are not drift.  The major last seen is kept in the alert
 * state (a restart or a takeover does not repeat the notice: a same-SQL
 * upgrade keeps the hash, and with it the old server's snapshot file);
 * without one there, it is the last snapshot recorded's.
 */
static void check_upgrade(struct target *t, const struct model *m, const char *prev_hash)
{
	int major = diff_server_major(m->server_version), was = t->astate->server_major;
	struct model *prev = NULL;
	struct diff *d = NULL;
	size_t rendered = 0;
	char msg[512];
	struct error e;

	if (!major)
		return;
	if (was != major && prev_hash[0] && store_load_snapshot(t->store, prev_hash, &prev, &e) == 0 &&
	    !was)
		was = diff_server_major(prev->server_version);
	if (!was || was == major) {
		model_free(prev);
		remember_major(t, major);
		return;
	}
	if (prev && diff_models(prev, m, &d) == 0)
		rendered = d->n_rendering;
	snprintf(msg, sizeof(msg), "PostgreSQL %d to %d (%s); %zu definition%s rendered"
		 " differently by the new server, not drift", was, major, m->server_version,
		 rendered, rendered == 1 ? "" : "s");
	spool_notice(t, ALERT_UPGRADED, msg, LOG_NOTICE, LOG_ID_UPGRADED);
	diff_free(d);
	model_free(prev);
	remember_major(t, major); /* spooled first: a crash in between repeats the notice */
}

/*
 * The DDL recorder (docs/attribution.md) stopped recording: disabled, an
 * event trigger dropped, its table unreadable, or removed altogether.  One
 * `recorder` alert when that happens (not again after a restart: what was
 * seen is kept in the alert state), a log line when it records again.  Without a recorder ever
 * seen nothing is said: attribution is opt-in, and the drift alerts say how
 * to turn it on.  The first run after a start takes what was seen last from
 * the alert state (alert_state.h), or, without it there, from the last
 * snapshot recorded.
 */
static void check_recorder(struct target *t, const struct model *m, const char *prev_hash)
{
	const char *problem = m->recorder ? recorder_problem(m->recorder) : NULL;
	int now = !m->recorder ? TARGET_RECORDER_ABSENT
		: problem     ? TARGET_RECORDER_PROBLEM
			      : TARGET_RECORDER_OK;
	int was = t->recorder_state;
	bool say = true;
	struct error e;

	t->recorder_state = now;
	if (was == TARGET_RECORDER_UNKNOWN)
		was = t->astate->recorder;
	if (was == TARGET_RECORDER_UNKNOWN && now == TARGET_RECORDER_ABSENT && prev_hash[0]) {
		struct model *prev = NULL;

		if (store_load_snapshot(t->store, prev_hash, &prev, &e) == 0 && prev->recorder)
			was = TARGET_RECORDER_OK;
		model_free(prev);
	}
	if (now == was || now == TARGET_RECORDER_OK) {
		if (now != was && was == TARGET_RECORDER_PROBLEM)
			log_target(LOG_NOTICE, t->name, LOG_ID_RECORDER, NULL,
				   "the DDL recorder records again");
		say = false;
	} else if (now == TARGET_RECORDER_ABSENT && was != TARGET_RECORDER_OK &&
		   was != TARGET_RECORDER_PROBLEM) {
		say = false;
	} else if (now == TARGET_RECORDER_ABSENT) {
		problem = "the DDL recorder was removed: changes are no longer attributed "
			  "(schemadrift audit install --dsn DSN puts it back)";
	}
	if (say)
		spool_notice(t, ALERT_RECORDER, problem, LOG_WARNING, LOG_ID_RECORDER);
	/* Spooled first, then remembered: a crash in between repeats the notice. */
	if (t->astate->recorder != now) {
		t->astate->recorder = now;
		save_notices(t);
	}
}

/* A full snapshot to act on: store it, compare with the baseline, alert. */
static void handle_snapshot(struct target *t, struct model *m)
{
	struct store_record rec = { .started = (time_t)(t->started_ms / 1000),
				    .duration_ms = elapsed_ms(t),
				    .model = m };
	struct alert_state_options ao = {
		.repeat_interval_s = t->env->cfg->repeat_interval_ms / 1000,
		.error_threshold = (unsigned)t->env->cfg->error_threshold,
	};
	struct alert_state_event ev[ALERT_STATE_MAX_EVENTS];
	struct store_baseline b = { 0 };
	struct model *base = NULL;
	struct diff *d = NULL;
	char hash[65];
	struct store_run run = { 0 };
	size_t n = 0;
	struct error e;

	snapshot_hash_hex(m->hash, hash);
	if (target_lost_lease(t)) {
		/* Recorded, and nothing else: the alert state, the baseline and
		 * the notices are the holder's now (it runs the target itself). */
		if (store_record_run(t->store, &rec, &run, &e) < 0)
			log_target(LOG_ERR, t->name, NULL, NULL, "cannot record the run: %s",
				   e.text);
		store_run_done(&run);
		model_free(m);
		finish_run(t);
		return;
	}
	check_upgrade(t, m, t->last_hash);
	check_recorder(t, m, t->last_hash);
	if (store_record_run(t->store, &rec, &run, &e) < 0) {
		model_free(m); /* a store that refuses every run must not leak a model each time */
		run_failed(t, e.text);
		return;
	}
	/* The report changes with a new snapshot, an audit entry (a baseline
	 * accepted or created, an acknowledgement) or an alert, not with a run
	 * that found the same; it is rewritten once the run is done. */
	bool report = run.new_snapshot || audit_size(t) != t->audit_size;
	store_run_done(&run);
	memcpy(t->last_hash, hash, 65);
	t->last_objects = m->n_objects;
	free(t->fingerprint);
	t->fingerprint = m->fingerprint ? strdup(m->fingerprint) : NULL;
	t->last_full_ms = wall_ms();
	t->last_success_ms = t->last_full_ms;
	t->failing = false;
	free(t->last_error);
	t->last_error = NULL;

	if (store_baseline_get(t->store, &b, &e) < 0 || !b.hash[0]) {
		if (strcmp(t->cfg->baseline, "auto") == 0) {
			if (store_baseline_set(t->store, hash, "baseline create", "schemadriftd",
					       "first run of the daemon", &e) < 0)
				log_target(LOG_ERR, t->name, NULL, NULL, "cannot create the baseline: %s",
					   e.text);
			else {
				log_target(LOG_NOTICE, t->name, NULL, hash,
					   "baseline created from the first snapshot");
				baseline_seen(t, hash);
				/* Its own entry needs no second look. */
				t->run_audit_size = audit_size(t);
			}
			t->waiting_for_baseline = false;
		} else {
			if (!t->waiting_for_baseline)
				log_target(LOG_WARNING, t->name, NULL, hash,
					   "no baseline yet: run `schemadrift baseline create %s`",
					   t->name);
			t->waiting_for_baseline = true;
		}
		store_baseline_done(&b);
		int changed = alert_state_observe_ok(t->astate, &ao, NULL, hash, time(NULL), ev, &n);
		if (changed >= 0)
			dispatch(t, changed, ev, n, NULL, NULL);
		t->drifting = false;
		model_free(m);
		finish_run(t);
		if (report || n)
			report_changed(t);
		return;
	}
	t->waiting_for_baseline = false;
	baseline_seen(t, b.hash);

	/* What the alert compares: the baseline, minus what was acknowledged. */
	const char *current = hash;
	if (strcmp(b.hash, hash) == 0) {
		/* Back at the baseline: nothing to compare until it drifts again. */
		model_free(t->baseline);
		t->baseline = NULL;
	} else if (baseline_model(t, b.hash, &base, &e) < 0) {
		/* Nothing to compare with is a problem of the store, never "drift
		 * with 0 changes": the run fails with the reason, and the error
		 * alert and its recovery follow as for any outage. */
		char why[sizeof(e.text) + 64];

		snprintf(why, sizeof(why), "cannot load the baseline snapshot: %s", e.text);
		store_baseline_done(&b);
		model_free(m);
		run_failed(t, why);
		return;
	} else if (diff_models(base, m, &d) == 0) {
		struct ack_set *acks = NULL;
		/* The recorder's rows that can explain drift are the baseline's time on. */
		snprintf(t->recorder_since, sizeof(t->recorder_since), "%s",
			 base->taken_at ? base->taken_at : "");
		if (ack_load(t->store, &acks, &e) == 0) {
			ack_apply(acks, d, time(NULL));
			/* Every difference acknowledged: as good as the baseline. */
			if (d->n_acknowledged == d->n_changes)
				current = b.hash;
			ack_set_free(acks);
		}
	}
	t->drifting = strcmp(current, b.hash) != 0;
	int changed = alert_state_observe_ok(t->astate, &ao, b.hash, current, time(NULL), ev, &n);
	if (changed >= 0)
		dispatch(t, changed, ev, n, d, NULL);
	diff_free(d);
	store_baseline_done(&b);
	model_free(m);
	finish_run(t);
	if (report || n)
		report_changed(t);
}

static void on_settle(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;

	(void)fd;
	(void)what;
	t->phase = PHASE_CONFIRM;
	start_snapshot(t, false);
}

static void on_live_done(struct model *m, const struct error *err, void *arg)
{
	struct target *t = arg;
	struct live_snapshot *s = t->live;
	char hash[65];

	t->live = NULL;
	if (s) {
		t->conn = live_snapshot_take_conn(s);
		live_snapshot_free(s);
	}
	if (!m && t->reused && (!err || err->code != -ETIMEDOUT)) {
		/* The server may close an idle pooled connection at any time
		 * (pg_terminate_backend, idle_session_timeout): one new
		 * connection before the run counts as failed. */
		log_target(LOG_INFO, t->name, NULL, NULL,
			   "the pooled connection failed (%s); reconnecting",
			   err ? err->text : "unknown error");
		PQfinish(t->conn);
		t->conn = NULL;
		start_snapshot(t, t->phase == PHASE_PROBE);
		return;
	}
	if (!m) {
		t->candidate[0] = '\0';
		run_failed(t, err ? err->text : "unknown error");
		return;
	}
	if (t->phase == PHASE_PROBE) {
		if (m->fingerprint && t->fingerprint && strcmp(m->fingerprint, t->fingerprint) == 0 &&
		    audit_size(t) == t->audit_size) {
			struct store_record rec = { .started = (time_t)(t->started_ms / 1000),
						    .duration_ms = elapsed_ms(t),
						    .unchanged = t->last_hash,
						    .unchanged_objects = t->last_objects };
			struct error e;

			model_free(m);
			t->probes_unchanged++;
			t->last_success_ms = wall_ms();
			t->failing = false;
			if (store_record_run(t->store, &rec, NULL, &e) < 0)
				log_target(LOG_ERR, t->name, NULL, NULL, "cannot record the run: %s",
					   e.text);
			/* Same schema as last time: the alert state stays as it is. */
			if (target_may_run(t))
				baseline_retry(t);
			finish_run(t);
			return;
		}
		model_free(m);
		log_target(LOG_DEBUG, t->name, NULL, NULL, "the catalog moved: full snapshot");
		start_snapshot(t, false);
		return;
	}
	snapshot_hash_hex(m->hash, hash);
	/* A change is confirmed by a second snapshot after the settle delay, so
	 * a migration caught half-way pages nobody twice. */
	if (t->env->cfg->settle_delay_ms > 0 && strcmp(hash, t->last_hash) != 0 &&
	    t->last_hash[0] && strcmp(hash, t->candidate) != 0) {
		struct timeval tv = { t->env->cfg->settle_delay_ms / 1000,
				      (t->env->cfg->settle_delay_ms % 1000) * 1000 };
		memcpy(t->candidate, hash, 65);
		model_free(m);
		log_target(LOG_INFO, t->name, NULL, hash,
			   "schema changed; confirming in %lld ms before alerting",
			   t->env->cfg->settle_delay_ms);
		evtimer_add(t->settle_timer, &tv);
		return;
	}
	t->candidate[0] = '\0';
	handle_snapshot(t, m);
}

void target_lease_lost(struct target *t)
{
	t->leased = false;
	t->handing_over = false;
	if (t->conn && !t->running) {
		evtimer_del(t->idle_timer);
		PQfinish(t->conn);
		t->conn = NULL;
	}
}

bool target_may_run(const struct target *t)
{
	return !t->coordinated || (t->leased && isotime_mono_ms() < t->lease_until_mono_ms);
}

bool target_may_start(const struct target *t)
{
	/* A renewed lease has at least half of lease_timeout left (fleet.c renews
	 * it every quarter): under a quarter, renewals failed twice. */
	return target_may_run(t) && !t->handing_over &&
	       (!t->coordinated ||
		t->lease_until_mono_ms - isotime_mono_ms() >= t->env->cfg->lease_timeout_ms / 4);
}

bool target_busy(const struct target *t)
{
	return t->running || t->queued || target_checks_running(t) ||
	       target_verify_running(t->verify);
}

bool target_lost_lease(const struct target *t)
{
	if (target_may_run(t))
		return false;
	log_target(LOG_INFO, t->name, NULL, NULL,
		   "lease lost during the run: its alerts are left to the holder");
	return true;
}

/* Stores the snapshot of hash from bytes unless the store has it and makes it the
 * baseline (store_baseline_set() loads it, verifying every object's hash; one that
 * does not verify is moved aside there). */
static int import_baseline(struct target *t, const char *hash, const unsigned char *bytes,
			   size_t len, bool had_one, const char *node, struct error *err)
{
	char name[128], reason[300];
	int r = 0;

	/* It names a file: 64 hex digits and nothing else, whatever the database holds. */
	if (strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64)
		return error_set(err, -EINVAL, "the shared baseline is not a snapshot hash");
	snprintf(name, sizeof(name), "snapshots/%s.json", hash);
	if (!store_snapshot_exists(t->store, hash) &&
	    (r = store_file_put(t->store, name, (const char *)bytes, len, err)) < 0)
		return r;
	snprintf(reason, sizeof(reason), "the baseline of %s, taken over with the target's lease",
		 node ? node : "another daemon");
	return store_baseline_set(t->store, hash, had_one ? "baseline accept" : "baseline create",
				  "schemadriftd", reason, err);
}

int target_load_state(struct target *t, const char *sub, struct alert_state **ret,
		      struct error *err)
{
	int r = alert_state_load_store(t->store, sub, ret, err);

	if (r < 0 && r != -EBADMSG && r != -ENOMEM && store_is_central(t->store)) {
		if (!t->state_pending)
			log_target(LOG_ERR, t->name, NULL, NULL,
				   "%s; the alert states are read once it answers", err->text);
		error_clear(err);
		t->state_pending = true;
		r = alert_state_new(t->name, ret);
	}
	return r;
}

/* The drift, check and verify alert states again from the store, in that order: each
 * that loads replaces the one in memory; the first that does not stops it. */
static int reload_states(struct target *t, struct error *err)
{
	struct alert_state *st = NULL;
	int r;

	if ((r = alert_state_load_store(t->store, NULL, &st, err)) < 0)
		return r;
	alert_state_free(t->astate);
	t->astate = st;
	t->drifting = st->drift;
	if ((r = target_checks_reload_state(t, err)) < 0 ||
	    (r = target_verify_reload_state(t->verify, err)) < 0)
		return r;
	t->state_pending = false;
	return 0;
}

void target_take_over(struct target *t, const char *alert_state, const char *baseline_hash,
		      const unsigned char *baseline, size_t baseline_len, const char *node)
{
	struct store_baseline b = { 0 };
	struct error e;

	int had = baseline_hash && baseline ? store_baseline_get(t->store, &b, &e) : 0;

	if (baseline_hash && baseline && (had < 0 || strcmp(b.hash, baseline_hash) != 0)) {
		if (import_baseline(t, baseline_hash, baseline, baseline_len, had == 0, node,
				    &e) < 0)
			log_target(LOG_ERR, t->name, NULL, NULL,
				   "cannot take over the shared baseline %.70s: %s", baseline_hash,
				   e.text);
		else
			log_target(LOG_NOTICE, t->name, NULL, baseline_hash,
				   "baseline taken over from the coordination database");
	}
	store_baseline_done(&b);
	if (baseline_hash)
		snprintf(t->published_baseline, sizeof(t->published_baseline), "%s", baseline_hash);
	/* With the central store the holder's alert states are there (below); a copy in
	 * the coordination database may be older, or left from before the switch. */
	if (alert_state && !store_is_central(t->store)) {
		struct alert_state *st = NULL;

		if (alert_state_parse(t->name, alert_state, strlen(alert_state),
				      "the coordination database's alert state", &st, &e) < 0) {
			log_target(LOG_ERR, t->name, NULL, NULL, "%s; keeping this daemon's",
				   e.text);
		} else {
			alert_state_free(t->astate);
			t->astate = st;
			if (alert_state_save_store(st, t->store, NULL, &e) < 0)
				log_target(LOG_ERR, t->name, NULL, NULL,
					   "cannot save the alert state: %s", e.text);
			t->drifting = st->drift;
		}
	}
	/* The central store has what the last holder saved, checks and verify too. */
	if (store_is_central(t->store) && reload_states(t, &e) < 0) {
		log_target(LOG_ERR, t->name, NULL, NULL, "%s; the alert states are read again "
			   "before the next run", e.text);
		t->state_pending = true;
	}
	/* What this daemon remembers of the schema may be old: compare afresh. */
	model_free(t->baseline);
	t->baseline = NULL;
	t->baseline_hash[0] = '\0';
	free(t->fingerprint);
	t->fingerprint = NULL;
	t->candidate[0] = '\0';
}

json_t *target_status_json(const struct target *t)
{
	char last[21] = "", next[21] = "", success[21] = "";
	json_t *j;

	if (t->last_run_ms)
		isotime_format((time_t)(t->last_run_ms / 1000), last);
	if (t->next_due_ms)
		isotime_format((time_t)(t->next_due_ms / 1000), next);
	if (t->last_success_ms)
		isotime_format((time_t)(t->last_success_ms / 1000), success);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:b, s:b, s:b, s:I, s:I, s:I, s:I, s:f}",
			 "target", t->name, "state",
			 t->running ? "running" : !target_may_run(t) ? "not held"
			 : t->failing ? "failing" : t->drifting ? "drifting"
			 : t->waiting_for_baseline ? "waiting for baseline" : "ok",
			 "last_run", last, "last_success", success, "hash", t->last_hash,
			 "last_error", t->last_error, "next_run", next, "drifting", t->drifting,
			 "failing", t->failing, "running", t->running, "runs", (json_int_t)t->runs,
			 "failures", (json_int_t)t->failures,
			 "probes_unchanged", (json_int_t)t->probes_unchanged,
			 "last_duration_ms", (json_int_t)t->last_duration_ms,
			 "worst_lag_s", t->worst_lag_ms / 1000.0);
	if (j) {
		static const char *const recorder[] = {
			[TARGET_RECORDER_UNKNOWN] = "unknown", [TARGET_RECORDER_ABSENT] = "absent",
			[TARGET_RECORDER_OK] = "recording", [TARGET_RECORDER_PROBLEM] = "not recording",
		};
		json_object_set_new(j, "recorder", json_string(recorder[t->recorder_state]));
	}
	if (j && t->coordinated) {
		/* Who checks it: this daemon while leased, else the holder last read. */
		json_object_set_new(j, "holder", t->holder ? json_string(t->holder) : json_null());
		json_object_set_new(j, "leased", json_boolean(target_may_run(t)));
	}
	if (j && t->verify)
		json_object_set_new(j, "verify", target_verify_status_json(t->verify));
	if (j && t->checks)
		json_object_set_new(j, "checks", target_checks_status_json(t));
	return j;
}
