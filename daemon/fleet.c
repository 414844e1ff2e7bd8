/* Several daemons, one check per target: coordination rounds off the loop, leases on it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coord.h"
#include "daemon.h"
#include "ini.h"
#include "isotime.h"
#include "log.h"
#include "worker.h"

/* A write waiting for the next round (struct coord_write): the latest per target wins. */

struct fleet {
	struct daemon *d;
	struct worker *worker; /* one thread: rounds run one at a time, in order */
	struct coord *coord;   /* NULL while a round has it (on the worker thread) */
	struct event *timer;
	struct event *soon;    /* a round right away, for a changed alert state */
	int64_t lease_ms, tick_ms;
	bool in_flight, up, ever_up;
	bool again; /* a state changed during the round in flight: another one follows it */
	char *node;
	char *last_error;
	struct coord_write *pending;
	size_t n_pending;
	uint64_t rounds_ok, rounds_failed, takeovers, acquired, lost, queries;
	size_t live_nodes;
};

/* One round's copies, owned by the job. */
struct round_job {
	struct fleet *f; /* touched only in done, on the loop */
	struct coord *coord; /* the fleet's, lent for the round; freed with a job never done */
	struct coord_round_in in;
	struct coord_round_out out;
	int64_t started_mono_ms; /* when the round began: leases last from there, at most */
	int r;
	struct error err;
};

static void pending_done(struct coord_write *p)
{
	free(p->target);
	free(p->alert_state);
	free(p->baseline_hash);
	free(p->baseline_path);
}

static void round_job_free(void *arg)
{
	struct round_job *j = arg;

	for (size_t i = 0; i < j->in.n; i++)
		free(j->in.targets[i]);
	free(j->in.targets);
	free(j->in.held);
	free(j->in.busy);
	for (size_t i = 0; i < j->in.n_writes; i++)
		pending_done(&j->in.writes[i]);
	free(j->in.writes);
	coord_round_out_done(&j->out, j->in.n);
	coord_free(j->coord);
	free(j);
}

static void round_run(void *arg)
{
	struct round_job *j = arg;

	j->started_mono_ms = isotime_mono_ms();
	j->r = coord_round(j->coord, &j->in, &j->out, &j->err);
}

static struct coord_write *find_pending(struct fleet *f, const char *target)
{
	for (size_t i = 0; i < f->n_pending; i++)
		if (strcmp(f->pending[i].target, target) == 0)
			return &f->pending[i];
	return NULL;
}

static struct coord_write *add_pending(struct fleet *f, const char *target)
{
	struct coord_write *p = find_pending(f, target), *grown;

	if (p)
		return p;
	grown = realloc(f->pending, (f->n_pending + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	f->pending = grown;
	p = &grown[f->n_pending];
	*p = (struct coord_write){ .target = strdup(target) };
	if (!p->target)
		return NULL;
	f->n_pending++;
	return p;
}

/* A round that failed gives its writes back, unless a newer one is waiting. */
static void requeue(struct fleet *f, struct round_job *j)
{
	for (size_t i = 0; i < j->in.n_writes; i++) {
		struct coord_write *w = &j->in.writes[i];
		struct coord_write *p = add_pending(f, w->target);

		if (!p)
			continue;
		if (w->alert_state && !p->alert_state) {
			p->alert_state = w->alert_state;
			w->alert_state = NULL;
		}
		if (w->baseline_hash && !p->baseline_hash) {
			p->baseline_hash = w->baseline_hash;
			p->baseline_path = w->baseline_path;
			w->baseline_hash = w->baseline_path = NULL;
		}
	}
}

/* Drops the leases whose time is up: with the database away nobody renews them,
 * and another daemon may take them as soon as they expire there. */
static void expire_leases(struct fleet *f)
{
	int64_t now = isotime_mono_ms();
	size_t n = 0;

	for (size_t i = 0; i < f->d->n_targets; i++) {
		struct target *t = f->d->targets[i];

		if (!t->leased || now < t->lease_until_mono_ms)
			continue;
		target_lease_lost(t);
		f->lost++;
		n++;
		log_target(LOG_INFO, t->name, NULL, NULL, "lease expired without renewal");
	}
	/* One line for the operator, however many targets (one per target at info). */
	if (n)
		log_msg(LOG_WARNING, "%zu lease%s expired without renewal (coordination database "
			"unreachable): not checked until renewed", n, n == 1 ? "" : "s");
}

static void round_done(void *arg)
{
	struct round_job *j = arg;
	struct fleet *f = j->f;
	struct daemon *d = f->d;

	f->in_flight = false;
	f->coord = j->coord;
	j->coord = NULL;
	f->queries += j->out.queries;
	if (j->r < 0) {
		f->rounds_failed++;
		/* Once per outage, then quietly until it is back. */
		if (f->up || !f->last_error)
			log_msg(LOG_ERR, "%s; leases kept until they expire", j->err.text);
		f->up = false;
		free(f->last_error);
		f->last_error = strdup(j->err.text);
		requeue(f, j);
		expire_leases(f);
		round_job_free(j);
		return;
	}
	if (!f->up)
		log_msg(LOG_NOTICE, "coordination: %s as node %s, %zu live node%s",
			f->ever_up ? "the database is back" : "connected", f->node,
			j->out.live_nodes, j->out.live_nodes == 1 ? "" : "s");
	if (j->out.migrated)
		log_msg(LOG_NOTICE, "coordination: schema " COORD_SCHEMA " created at version %d",
			COORD_SCHEMA_VERSION);
	f->up = f->ever_up = true;
	free(f->last_error);
	f->last_error = NULL;
	f->rounds_ok++;
	f->takeovers += j->out.taken_over;
	/* This daemon lost a target and its last state came too late: the new holder's
	 * state stands (docs/operations.md: it may alert that drift once more). */
	if (j->out.writes_refused) {
		const char *s = j->out.writes_refused == 1 ? "" : "s";

		log_msg(LOG_NOTICE, "coordination: %zu late write%s refused, another daemon holds "
			"the target%s now", j->out.writes_refused, s, s);
	}
	f->live_nodes = j->out.live_nodes;
	for (size_t i = 0; i < j->out.n_unpublished; i++) {
		const struct coord_write *w = &j->in.writes[i];
		struct target *t = j->out.unpublished[i] ? daemon_find_target(d, w->target) : NULL;

		/* Unread, so unpublished: the next run that sees it hands it on again. */
		if (t && strcmp(t->published_baseline, w->baseline_hash) == 0) {
			log_target(LOG_WARNING, t->name, NULL, w->baseline_hash,
				   "cannot publish the baseline: %s", j->out.unpublished[i]);
			t->published_baseline[0] = '\0';
		}
	}
	for (size_t i = 0; i < j->in.n; i++) {
		struct target *t = daemon_find_target(d, j->in.targets[i]);
		struct coord_target_state *s = &j->out.state[i];

		if (!t) /* removed by a reload meanwhile: its lease goes next round */
			continue;
		free(t->holder);
		t->holder = j->out.holder[i];
		j->out.holder[i] = NULL;
		if (!j->out.held[i]) {
			if (t->leased) {
				log_target(LOG_NOTICE, t->name, NULL, NULL,
					   "lease handed over to %s",
					   j->out.owner[i] ? j->out.owner[i] : "another node");
				target_lease_lost(t);
			}
			continue;
		}
		/* Leases end at the database's now() + lease_timeout; the round
		 * began before that now(), so this end comes first. */
		t->lease_until_mono_ms = j->started_mono_ms + f->lease_ms - f->tick_ms;
		/* Kept only for a run in flight: none starts any more, so that the
		 * target moves once it ends (runs back to back would keep it). */
		bool handing_over = j->out.owner[i] && strcmp(j->out.owner[i], f->node) != 0;
		if (handing_over && !t->handing_over)
			log_target(LOG_INFO, t->name, NULL, NULL, "to be handed over to %s once "
				   "the run in flight ends", j->out.owner[i]);
		t->handing_over = handing_over;
		if (t->leased)
			continue;
		if (!j->in.held[i]) {
			t->leased = true;
			f->acquired++;
			log_target(LOG_NOTICE, t->name, NULL, NULL, "lease taken by node %s",
				   f->node);
			target_take_over(t, s->alert_state, s->baseline_hash, s->baseline,
					 s->baseline_len, s->node);
			/* Checked now, not at its next due time: a takeover closes
			 * the gap the previous holder left. */
			if (!t->running && !t->queued)
				t->due_ms = 0;
			daemon_request_run(d, t);
		} else {
			/* Expired here while the round was running: renewed after all. */
			t->leased = true;
		}
	}
	round_job_free(j);
	daemon_update_status(d);
	if (f->again && f->up) {
		struct timeval now = { 0, 0 };
		f->again = false;
		evtimer_add(f->soon, &now);
	}
}

static void submit_round(struct fleet *f)
{
	struct daemon *d = f->d;
	struct round_job *j = calloc(1, sizeof(*j));
	size_t n = d->n_targets;

	if (!j)
		return;
	j->f = f;
	j->in.targets = calloc(n + 1, sizeof(*j->in.targets));
	j->in.held = calloc(n + 1, sizeof(*j->in.held));
	j->in.busy = calloc(n + 1, sizeof(*j->in.busy));
	if (!j->in.targets || !j->in.held || !j->in.busy)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct target *t = d->targets[i];

		if (!(j->in.targets[i] = strdup(t->name)))
			goto fail;
		j->in.n++;
		j->in.held[i] = t->leased;
		j->in.busy[i] = target_busy(t);
	}
	/* The writes go with the round; a failed round gives them back. */
	j->in.writes = f->pending;
	j->in.n_writes = f->n_pending;
	f->pending = NULL;
	f->n_pending = 0;
	j->coord = f->coord;
	if (worker_submit(f->worker, round_run, round_done, round_job_free, j) < 0) {
		j->coord = NULL;
		requeue(f, j);
		goto fail;
	}
	f->coord = NULL;
	f->in_flight = true;
	return;
fail:
	round_job_free(j);
}

/* An alert state changed: the next holder must see it, so it goes out now, not at the
 * next tick (what the database has not received when it goes away may be alerted
 * again by whoever takes the target over, under the same dedup key). */
static void on_soon(evutil_socket_t fd, short what, void *arg)
{
	struct fleet *f = arg;

	(void)fd;
	(void)what;
	if (!f->in_flight && !f->d->stopping)
		submit_round(f);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct fleet *f = arg;

	(void)fd;
	(void)what;
	expire_leases(f);
	/* A round still running (a slow or unreachable server) is not doubled. */
	if (!f->in_flight && !f->d->stopping)
		submit_round(f);
}

/* The node name: [daemon] node_name, or HOSTNAME:PID (unique on a machine, and
 * a restarted daemon is a new node whose predecessor's leases simply expire). */
static char *node_name(const struct config_daemon *dc)
{
	char host[256] = "localhost", *name = NULL;

	if (dc->node_name)
		return strdup(dc->node_name);
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (asprintf(&name, "%s:%ld", host, (long)getpid()) < 0)
		return NULL;
	return name;
}

int fleet_new(struct daemon *d, const struct config *c, struct fleet **ret, struct error *err)
{
	const struct config_daemon *dc = &c->daemon;
	const struct ini_section *s = ini_find(c->raw, "daemon", NULL);
	const struct ini_kv *kv = s ? ini_get(s, "coordination_password") : NULL;
	struct fleet *f = calloc(1, sizeof(*f));
	char *password = NULL;
	int r;

	if (!f)
		return error_set(err, -ENOMEM, "out of memory");
	f->d = d;
	f->lease_ms = dc->lease_timeout_ms;
	/* Four rounds per lease: a lease survives two failed rounds, and a
	 * takeover waits at most a quarter of a lease past its expiry. */
	f->tick_ms = f->lease_ms / 4 > 250 ? f->lease_ms / 4 : 250;
	if (dc->coordination_password && kv && (r = ini_secret(kv, &password, err)) < 0)
		goto fail;
	if (!(f->node = node_name(dc))) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	struct coord_options o = { .dsn = dc->coordination, .password = password, .node = f->node,
				   .connect_timeout_ms = (int)dc->connect_timeout_ms,
				   .lease_timeout_ms = dc->lease_timeout_ms };
	if ((r = coord_new(&o, &f->coord)) < 0) {
		error_set(err, r, "out of memory");
		goto fail;
	}
	if ((r = worker_new(d->base, 1, &f->worker, err)) < 0)
		goto fail;
	f->timer = event_new(d->base, -1, EV_PERSIST, on_tick, f);
	f->soon = evtimer_new(d->base, on_soon, f);
	if (!f->timer || !f->soon) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	struct timeval tv = { f->tick_ms / 1000, (f->tick_ms % 1000) * 1000 };
	evtimer_add(f->timer, &tv);
	ini_secret_free(password);
	*ret = f;
	return 0;
fail:
	ini_secret_free(password);
	fleet_free(f);
	return r;
}

void fleet_start(struct fleet *f)
{
	submit_round(f);
}

void fleet_leave(struct fleet *f)
{
	struct coord_round_in in = { .leaving = true };
	struct coord_round_out out = { 0 };
	struct error err;

	/* A round finished but not handed back before the loop ended, or still
	 * running: handed back first (its statements have deadlines of their own). */
	if (f->in_flight && worker_drain(f->worker, (int)f->lease_ms) < 0)
		log_msg(LOG_INFO, "coordination: the last round did not end within lease_timeout");
	/* Never joined, or a round still holds the connection (it is stuck on an
	 * unreachable server): the leases expire as after a crash. */
	if (!f->ever_up || !f->coord)
		return;
	/* What the loop queued, a failed last round's writes given back included. */
	in.writes = f->pending;
	in.n_writes = f->n_pending;
	/* The loop has ended: blocking here delays only the exit (connect_timeout
	 * and the statement timeout bound it).  The alert states go first, so
	 * that the next holders resume from them. */
	if (coord_round(f->coord, &in, &out, &err) < 0) {
		log_msg(LOG_WARNING, "%s; the leases expire after lease_timeout instead", err.text);
		return;
	}
	coord_round_out_done(&out, 0);
	for (size_t i = 0; i < f->n_pending; i++)
		pending_done(&f->pending[i]);
	f->n_pending = 0;
	log_msg(LOG_NOTICE, "coordination: leases released, the other daemons take them over");
}

void fleet_free(struct fleet *f)
{
	if (!f)
		return;
	if (f->timer)
		event_free(f->timer);
	if (f->soon)
		event_free(f->soon);
	/* A round still running is released (with the coord it borrowed) by its
	 * thread when it returns. */
	worker_free(f->worker);
	coord_free(f->coord);
	for (size_t i = 0; i < f->n_pending; i++)
		pending_done(&f->pending[i]);
	free(f->pending);
	free(f->node);
	free(f->last_error);
	free(f);
}

void fleet_state_saved(struct fleet *f, struct target *t)
{
	struct coord_write *p = add_pending(f, t->name);
	char *text = alert_state_dump(t->astate);

	if (!p || !text) {
		free(text);
		log_target(LOG_ERR, t->name, NULL, NULL,
			   "cannot queue the alert state for the coordination database: "
			   "out of memory");
		return;
	}
	free(p->alert_state);
	p->alert_state = text;
	if (!f->in_flight) {
		struct timeval now = { 0, 0 };
		evtimer_add(f->soon, &now);
	} else {
		f->again = true;
	}
}

void fleet_baseline_seen(struct fleet *f, struct target *t, const char *hash)
{
	struct coord_write *p = add_pending(f, t->name);
	char *h = strdup(hash), *path = store_snapshot_path(t->store, hash);

	if (!p || !h || !path) {
		free(h);
		free(path);
		t->published_baseline[0] = '\0'; /* tried again at the next run */
		return;
	}
	free(p->baseline_hash);
	free(p->baseline_path);
	p->baseline_hash = h;
	p->baseline_path = path;
}

json_t *fleet_status_json(const struct fleet *f)
{
	struct fleet_stats st;

	fleet_get_stats(f, &st);
	return json_pack("{s:s, s:b, s:s?, s:I, s:I, s:I, s:I}", "node", f->node, "connected",
			 st.up, "last_error", f->last_error, "live_nodes",
			 (json_int_t)st.live_nodes, "leases_held", (json_int_t)st.leases_held,
			 "takeovers", (json_int_t)st.takeovers, "rounds_failed",
			 (json_int_t)st.rounds_failed);
}

void fleet_get_stats(const struct fleet *f, struct fleet_stats *ret)
{
	size_t held = 0;

	for (size_t i = 0; i < f->d->n_targets; i++)
		held += f->d->targets[i]->leased;
	*ret = (struct fleet_stats){ .up = f->up, .live_nodes = f->live_nodes, .leases_held = held,
				     .acquired = f->acquired, .takeovers = f->takeovers,
				     .expired = f->lost, .rounds_ok = f->rounds_ok,
				     .rounds_failed = f->rounds_failed, .queries = f->queries };
}
