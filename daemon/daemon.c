/* schemadriftd's core: configuration, targets, the run queue, reload and stop. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon.h"
#include "fileio.h"
#include "http.h"
#include "isotime.h"
#include "log.h"
#include "worker.h"

/* The counters of one notifier, added on first use; NULL if out of memory. */
static struct channel_stats *channel_stats(struct daemon *d, const char *name)
{
	struct channel_stats *grown;

	if (!name)
		return NULL;
	for (size_t i = 0; i < d->n_chstats; i++)
		if (strcmp(d->chstats[i].name, name) == 0)
			return &d->chstats[i];
	grown = realloc(d->chstats, (d->n_chstats + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	d->chstats = grown;
	grown[d->n_chstats] = (struct channel_stats){ .name = strdup(name) };
	if (!grown[d->n_chstats].name)
		return NULL;
	return &grown[d->n_chstats++];
}

static void on_outbox_event(const struct outbox_event *ev, void *arg)
{
	struct daemon *d = arg;
	struct channel_stats *cs = channel_stats(d, ev->channel);

	switch (ev->kind) {
	case OUTBOX_DELIVERED:
		d->alerts_sent++;
		if (cs)
			cs->sent++;
		log_target(LOG_INFO, ev->target, NULL, NULL, "alert %s delivered to %s", ev->alert_id,
			   ev->channel);
		break;
	case OUTBOX_RETRYING:
		log_target(LOG_NOTICE, ev->target, NULL, NULL, "alert %s to %s: will retry (%s)",
			   ev->alert_id, ev->channel,
			   ev->result ? ev->result->detail : "no answer");
		break;
	case OUTBOX_GAVE_UP:
		d->alerts_failed++;
		if (cs)
			cs->failed++;
		log_target(LOG_ERR, ev->target, NULL, NULL, "alert %s to %s given up: %s (kept in %s)",
			   ev->alert_id, ev->channel, ev->reason ? ev->reason : "", ev->path);
		break;
	case OUTBOX_DROPPED:
		d->alerts_failed++;
		if (cs)
			cs->failed++;
		log_target(LOG_WARNING, ev->target, NULL, NULL, "alert %s to %s dropped: %s",
			   ev->alert_id, ev->channel, ev->reason ? ev->reason : "");
		break;
	case OUTBOX_CORRUPT:
		log_msg(LOG_ERR, "outbox: unreadable spool file moved to %s: %s", ev->path,
			ev->reason ? ev->reason : "");
		break;
	case OUTBOX_UNROUTABLE:
		log_msg(LOG_WARNING, "outbox: %zu alert(s) for channel '%s', which is not configured",
			ev->count, ev->channel ? ev->channel : "");
		break;
	}
}

static void free_channels(struct notify_channel **ch, size_t n)
{
	for (size_t i = 0; i < n; i++)
		notify_channel_free(ch[i]);
	free(ch);
}

static int build_channels(struct daemon *d, const struct config *c, struct notify_channel ***ret,
			  size_t *ret_n, struct error *err)
{
	struct notify_channel **ch = calloc(c->raw->n_sections + 1, sizeof(*ch));
	size_t n = 0;

	if (!ch)
		return error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < c->raw->n_sections; i++) {
		const struct ini_section *s = &c->raw->sections[i];
		int r;

		if (strcmp(s->kind, "notifier") != 0)
			continue;
		r = notify_channel_new(&d->notify_env, s, &ch[n], err);
		if (r < 0) {
			free_channels(ch, n);
			return r;
		}
		n++;
	}
	*ret = ch;
	*ret_n = n;
	return 0;
}

static void outbox_options(const struct config *c, struct outbox_options *o, struct daemon *d)
{
	outbox_options_init(o);
	o->max_age_ms = c->daemon.outbox_max_age_ms;
	o->max_entries = (size_t)c->daemon.outbox_max_entries;
	o->max_bytes = (size_t)c->daemon.outbox_max_bytes;
	o->concurrency = (unsigned)c->daemon.outbox_concurrency;
	o->backoff_base_ms = c->daemon.outbox_backoff_base_ms;
	o->backoff_cap_ms = c->daemon.outbox_backoff_cap_ms;
	o->on_event = on_outbox_event;
	o->arg = d;
}

struct target *daemon_find_target(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_targets; i++)
		if (strcmp(d->targets[i]->name, name) == 0)
			return d->targets[i];
	return NULL;
}

void daemon_update_status(struct daemon *d)
{
	size_t drifting = 0, failing = 0, running = 0;
	time_t next = 0;
	char when[21] = "-";

	for (size_t i = 0; i < d->n_targets; i++) {
		struct target *t = d->targets[i];
		drifting += t->drifting;
		failing += t->failing;
		running += t->running;
		if (t->next_due_ms && (!next || t->next_due_ms / 1000 < next))
			next = (time_t)(t->next_due_ms / 1000);
	}
	if (next)
		isotime_format(next, when);
	service_status("%zu target%s, %zu drifting, %zu failing, %zu running; next run %s%s%s",
		       d->n_targets, d->n_targets == 1 ? "" : "s", drifting, failing, running, when,
		       d->reload_error ? "; last reload failed: " : "",
		       d->reload_error ? d->reload_error : "");
}

void daemon_request_run(struct daemon *d, struct target *t)
{
	if (t->running || t->queued)
		return;
	/* Checked again when a queued or pending run starts: the lease may
	 * have gone while it waited (the next holder runs the target). */
	if (!target_may_start(t))
		return;
	if (d->active >= (size_t)d->config->daemon.max_concurrent || d->stopping) {
		if (d->n_waitq == d->cap_waitq) {
			size_t cap = d->cap_waitq ? d->cap_waitq * 2 : 16;
			struct target **q = realloc(d->waitq, cap * sizeof(*q));
			if (!q)
				return;
			d->waitq = q;
			d->cap_waitq = cap;
		}
		d->waitq[d->n_waitq++] = t;
		t->queued = true;
		return;
	}
	d->active++;
	target_start_run(t);
}

/* Starts runs that waited for a free slot, as far as max_concurrent allows. */
static void start_waiting(struct daemon *d)
{
	while (d->n_waitq && d->active < (size_t)d->config->daemon.max_concurrent && !d->stopping) {
		struct target *next = d->waitq[0];
		memmove(d->waitq, d->waitq + 1, --d->n_waitq * sizeof(*d->waitq));
		next->queued = false;
		daemon_request_run(d, next); /* dropped when its lease went meanwhile */
	}
}

/* target_env.finished: a run ended, its slot is free. */
static void on_run_finished(struct target *t, void *arg)
{
	struct daemon *d = arg;

	d->active--;
	if (t->pending) {
		t->pending = false;
		daemon_request_run(d, t);
	}
	start_waiting(d);
	daemon_update_status(d);
	if (d->stopping && d->active == 0)
		event_base_loopexit(d->base, NULL);
}

/* target_env.changed: the target's page of the report is out of date. */
static void on_target_changed(struct target *t, void *arg)
{
	struct daemon *d = arg;

	reporting_changed(d->reporting, t->name);
}

/* target_env.state_saved and baseline_seen: for the daemon that takes the target next. */
static void on_state_saved(struct target *t, void *arg)
{
	struct daemon *d = arg;

	fleet_state_saved(d->fleet, t);
}

static void on_baseline_seen(struct target *t, const char *hash, void *arg)
{
	struct daemon *d = arg;

	fleet_baseline_seen(d->fleet, t, hash);
}

/* target_env.due: a target's run is due. */
static void on_run_due(struct target *t, void *arg)
{
	daemon_request_run(arg, t);
}

static void drop_from_waitq(struct daemon *d, struct target *t)
{
	for (size_t i = 0; i < d->n_waitq; i++)
		if (d->waitq[i] == t) {
			memmove(&d->waitq[i], &d->waitq[i + 1], (d->n_waitq - i - 1) * sizeof(*d->waitq));
			d->n_waitq--;
			return;
		}
}

/* Prefixes err with where [daemon] key is set (or, for a built-in default, the
 * file).  Returns err->code. */
static int daemon_key_prefix(const struct config *c, const char *key, struct error *err)
{
	const struct ini_section *s = ini_find(c->raw, "daemon", NULL);
	const struct ini_kv *kv = s ? ini_get(s, key) : NULL;

	if (kv)
		return error_prefix(err, "%s:%d: [daemon] key '%s'", kv->file, kv->line, key);
	return error_prefix(err, "%s: [daemon] key '%s' (built-in default)",
			    c->raw->n_files ? c->raw->files[0] : "(configuration)", key);
}

static void free_setups(struct target_setup *setups, size_t n)
{
	for (size_t i = 0; setups && i < n; i++)
		target_setup_done(&setups[i]);
	free(setups);
}

/*
 * What config_load() cannot check alone, built once for the targets to take:
 * schedules and their time zones, filters, and password files.  With
 * secrets_fatal an unreadable password file is an error; otherwise (at
 * startup: there is nothing running to keep) it is logged, that target's
 * ret_skip[i] is set, and the others go on.
 */
static int build_setups(const struct config *c, bool secrets_fatal, struct target_setup **ret,
			bool **ret_skip, struct error *err)
{
	struct target_setup *setups = calloc(c->n_targets + 1, sizeof(*setups));
	bool *skip = calloc(c->n_targets + 1, sizeof(*skip));
	size_t n = 0;
	int r = 0;

	if (!setups || !skip) {
		free(setups);
		free(skip);
		return error_set(err, -ENOMEM, "out of memory");
	}
	for (; n < c->n_targets; n++) {
		const struct config_target *t = &c->targets[n];
		struct error perr;

		if ((r = target_setup_build(c, t, &setups[n], err)) < 0)
			break;
		if (target_setup_read_password(c, t, &setups[n], &perr) < 0) {
			if (secrets_fatal) {
				*err = perr;
				r = perr.code;
				n++;
				break;
			}
			log_msg(LOG_ERR, "%s", perr.text);
			skip[n] = true;
		}
	}
	if (r < 0) {
		free_setups(setups, n);
		free(skip);
		return r;
	}
	*ret = setups;
	*ret_skip = skip;
	return 0;
}

/* What mkdir -p of path would trip on, short of permissions (the daemon may
 * run as another user than --check-config): a part that is not a directory. */
static int check_dir_path(const char *path, struct error *err)
{
	char *p = strdup(path);
	struct stat st;
	int r = 0;

	if (!p)
		return error_set(err, -ENOMEM, "out of memory");
	for (;;) {
		char *slash;

		if (stat(p, &st) == 0) {
			if (!S_ISDIR(st.st_mode))
				r = error_set(err, -ENOTDIR, "%s is not a directory", p);
			break;
		}
		if ((errno != ENOENT && errno != ENOTDIR) || !(slash = strrchr(p, '/')) ||
		    slash == p)
			break;
		*slash = '\0';
	}
	free(p);
	return r;
}

int daemon_make_dir(const char *path, const char *key, struct error *err)
{
	char *p = strdup(path);
	size_t len;
	int r = 0;

	if (!p)
		return error_set(err, -ENOMEM, "out of memory");
	for (len = strlen(p); len > 1 && p[len - 1] == '/'; len--)
		p[len - 1] = '\0';
	/* Parents first, as systemd's StateDirectory= and RuntimeDirectory= would
	 * make them; only the directory itself is private. */
	for (char *s = strchr(p + 1, '/'); r == 0 && s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			r = -errno;
		*s = '/';
	}
	if (r == 0 && mkdir(p, 0750) < 0 && errno != EEXIST)
		r = -errno;
	free(p);
	if (r == -EACCES || r == -EPERM || r == -EROFS)
		return error_set(err, r,
				 "%s %s: cannot create it: %s; create it for the daemon's user "
				 "(install -d -m 0750 -o schemadrift -g schemadrift %s), set %s to a "
				 "directory it may write, or run it under systemd, whose unit makes it",
				 key, path, strerror(-r), path, key);
	if (r < 0)
		return error_set(err, r, "%s %s: cannot create it: %s", key, path, strerror(-r));
	return 0;
}

/* What startup would refuse in the [daemon] section beyond each key's own
 * check: directories it cannot make, a socket path too long, an address that
 * does not resolve. */
static int check_daemon(const struct config *c, struct error *err)
{
	const struct config_daemon *dm = &c->daemon;
	char *sock = NULL, *host = NULL;
	unsigned short port;
	int r;

	if ((r = check_dir_path(dm->state_dir, err)) < 0)
		return daemon_key_prefix(c, "state_dir", err);
	if ((r = check_dir_path(dm->runtime_dir, err)) < 0 ||
	    (r = control_socket_path(dm->runtime_dir, &sock, err)) < 0)
		return daemon_key_prefix(c, "runtime_dir", err);
	free(sock);
	if (!dm->metrics_listen[0])
		return 0;
	if ((r = config_listen_split(dm->metrics_listen, &host, &port, err)) == 0) {
		r = metrics_check_host(host, port, err);
		free(host);
	}
	return r < 0 ? daemon_key_prefix(c, "metrics_listen", err) : 0;
}

/* coordination_password belongs to coordination; with secrets, it can be read. */
static int check_coordination(const struct config *c, bool secrets, struct error *err)
{
	const struct ini_section *s = ini_find(c->raw, "daemon", NULL);
	const struct ini_kv *kv = s ? ini_get(s, "coordination_password") : NULL;
	char *password = NULL;
	int r;

	if (!kv)
		return 0;
	if (!c->daemon.coordination)
		return ini_error(kv, err, -EINVAL, "without coordination (the database it is for)");
	if (!secrets)
		return 0;
	r = ini_secret(kv, &password, err);
	ini_secret_free(password);
	return r;
}

int daemon_check_config(const struct config *c, bool secrets, struct error *err)
{
	struct daemon d = { 0 };
	struct notify_channel **ch = NULL;
	size_t n = 0;
	int r;

	/* The channels are built as the daemon would build them (and freed
	 * unused): their types, keys, URLs and secrets are checked there. */
	d.base = event_base_new();
	if (!d.base)
		return error_set(err, -ENOMEM, "out of memory");
	d.notify_env.base = d.base;
	r = http_client_new(d.base, &d.notify_env.http, err);
	if (r == 0 && (r = build_channels(&d, c, &ch, &n, err)) == 0)
		free_channels(ch, n);
	/* What the targets will take (schedules, zones, filters), built and thrown
	 * away; with secrets, the password files too (at startup an unreadable
	 * one only leaves its target out: apply_config()). */
	for (size_t i = 0; r == 0 && i < c->n_targets; i++) {
		struct target_setup s;

		if ((r = target_setup_build(c, &c->targets[i], &s, err)) < 0)
			break;
		if (secrets)
			r = target_setup_read_password(c, &c->targets[i], &s, err);
		target_setup_done(&s);
	}
	if (r == 0)
		r = check_daemon(c, err);
	if (r == 0)
		r = check_coordination(c, secrets, err);
	if (r == 0) {
		struct store_central *sc = NULL;

		r = store_central_from_config(c, secrets, &sc, err);
		store_central_free(sc);
	}
	http_client_free(d.notify_env.http);
	event_base_free(d.base);
	return r;
}

int daemon_load_config(const char *path, bool secrets, struct config **ret, struct error *err)
{
	struct config *c = NULL;
	int r = config_load(path, &c, err);

	if (r == 0 && (r = daemon_check_config(c, secrets, err)) < 0)
		config_free(c);
	if (r == 0)
		*ret = c;
	return r;
}

/* The outbox of c's state_dir, delivering to the channels ch. */
static int open_outbox(struct daemon *d, const struct config *c, struct notify_channel **ch,
		       size_t n_ch, struct outbox **ret, struct error *err)
{
	struct outbox_options o;
	char *dir = NULL;
	int r;

	outbox_options(c, &o, d);
	if (asprintf(&dir, "%s/outbox", c->daemon.state_dir) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	r = outbox_open(dir, &o, &d->notify_env, ch, n_ch, ret, err);
	free(dir);
	return r;
}

/*
 * Applies a newly parsed configuration: parse into a new object, build what
 * can fail (channels, schedules, stores) before touching the running state,
 * then swap.  On failure the old configuration keeps running.
 */
static int apply_config(struct daemon *d, struct config *c, bool first, struct error *err)
{
	struct notify_channel **ch = NULL;
	struct target_setup *setups = NULL;
	bool *skip = NULL;
	size_t n_ch = 0;
	struct target **targets = calloc(c->n_targets + 1, sizeof(*targets));
	size_t n = 0;
	int r;

	if (!targets)
		return error_set(err, -ENOMEM, "out of memory");
	if ((r = build_channels(d, c, &ch, &n_ch, err)) < 0)
		goto fail;
	/* Build every target's schedule, filter and password once, here.  On a
	 * reload an unreadable password file is an error like any other: the
	 * running configuration stays.  At startup there is nothing to keep, so
	 * such a target is left out and the others run. */
	if ((r = build_setups(c, !first, &setups, &skip, err)) < 0)
		goto fail;
	/* The outbox lives across reloads; only its channel set changes. */
	if (first) {
		/* systemd's StateDirectory= makes it; by hand, we do. */
		if ((r = daemon_make_dir(c->daemon.state_dir, "state_dir", err)) < 0)
			goto fail;
		/* Only we may write there: a link planted in it would redirect the store. */
		if ((r = fileio_check_dir(c->daemon.state_dir, true, err)) < 0) {
			error_prefix(err, "state_dir");
			goto fail;
		}
		if ((r = open_outbox(d, c, ch, n_ch, &d->outbox, err)) < 0)
			goto fail;
	} else {
		struct outbox *ob = NULL;

		/* Reopen on the same spool with the new channels; entries stay on disk. */
		outbox_close(d->outbox);
		d->outbox = NULL;
		if ((r = open_outbox(d, c, ch, n_ch, &ob, err)) < 0) {
			/* Reopen with the old channels so delivery goes on.  Should that
			 * fail too, alerts are spooled nowhere: both reasons are reported. */
			struct error e2;

			if (open_outbox(d, d->config, d->channels, d->n_channels, &d->outbox,
					&e2) < 0) {
				char first_text[sizeof(err->text)];

				log_msg(LOG_ERR, "outbox: cannot reopen it with the running "
					"notifiers, alerts are not spooled: %s", e2.text);
				snprintf(first_text, sizeof(first_text), "%s", err->text);
				error_set(err, r, "%s; reopening the running outbox failed too: %s",
					  first_text, e2.text);
			}
			goto fail;
		}
		d->outbox = ob;
	}
	/* Targets: keep the running ones (their state), add new, retire removed.
	 * Each takes its setup, built above: nothing is built twice. */
	for (size_t i = 0; i < c->n_targets; i++) {
		struct target *t = daemon_find_target(d, c->targets[i].name);

		if (skip[i])
			continue;
		if (t) {
			target_reconfigure(t, &c->targets[i], &setups[i]);
		} else if (target_new(&d->target_env, c->daemon.state_dir, &c->targets[i],
				      &setups[i], &t, err) < 0) {
			/* Rare (out of memory, a store that cannot be opened): say so, go on. */
			log_msg(LOG_ERR, "%s", err->text);
			continue;
		}
		/* With coordination a target runs only under a lease (fleet.c). */
		t->coordinated = d->fleet != NULL;
		targets[n++] = t;
	}
	free_setups(setups, c->n_targets);
	free(skip);
	for (size_t i = 0; i < d->n_targets; i++) {
		struct target *t = d->targets[i];
		bool kept = false;
		for (size_t k = 0; k < n; k++)
			kept |= targets[k] == t;
		if (kept)
			continue;
		log_target(LOG_NOTICE, t->name, NULL, NULL, "no longer monitored");
		drop_from_waitq(d, t);
		/* A run in progress is abandoned (its connection closed, as on
		 * SIGTERM): it reads t->cfg, which is freed with the old
		 * configuration below. */
		if (t->running)
			d->active--;
		target_free(t);
	}
	free(d->targets);
	d->targets = targets;
	d->n_targets = n;
	free_channels(d->channels, d->n_channels);
	d->channels = ch;
	d->n_channels = n_ch;
	/* Every notifier's counters exist from the start, at 0, so that a rate
	 * or an alert on them has a series before the first delivery. */
	for (size_t i = 0; i < c->raw->n_sections; i++)
		if (strcmp(c->raw->sections[i].kind, "notifier") == 0)
			channel_stats(d, c->raw->sections[i].name);
	if (d->config) {
		/* Targets kept point into the new config by now (target_reconfigure). */
		config_free(d->config);
	}
	d->config = c;
	d->target_env.cfg = &c->daemon;
	d->target_env.customs = c->customs;
	if (!d->verbose)
		log_set_level(log_level_from_name(c->daemon.log_level));
	/* New targets run at once; the others follow their (maybe new) schedule. */
	for (size_t i = 0; i < n; i++)
		if (!targets[i]->running)
			target_schedule_next(targets[i],
					     targets[i]->runs == 0 && !targets[i]->next_due_ms);
	/* Slots freed by removed targets, or a larger max_concurrent. */
	start_waiting(d);
	return 0;
fail:
	free_channels(ch, n_ch);
	free_setups(setups, c->n_targets);
	free(skip);
	free(targets);
	return r;
}

static void on_restart_only(const char *section, const char *name, const char *key,
			    const struct ini_kv *where, void *arg)
{
	char place[160];

	(void)arg;
	if (where)
		snprintf(place, sizeof(place), "%s:%d: ", where->file, where->line);
	else
		place[0] = '\0';
	log_msg(LOG_NOTICE, "%s[%s%s%s] key '%s' changed: it takes effect at the next restart",
		place, section, name ? " " : "", name ? name : "", key);
}

static void reload(struct daemon *d)
{
	struct config *c = NULL;
	struct error err;
	char *report_dir = strdup(d->config->daemon.report_dir);
	int r;

	service_reloading();
	log_msg(LOG_NOTICE, "reloading %s", d->config_path);
	if ((r = daemon_load_config(d->config_path, true, &c, &err)) == 0) {
		/* Restart-only keys keep their running values (state_dir, the control
		 * socket and the metrics listener are open already). */
		r = config_keep_restart_only(c, d->config, on_restart_only, d);
		if (r < 0)
			error_set(&err, r, "out of memory");
		else
			r = apply_config(d, c, false, &err);
		if (r < 0 && c != d->config)
			config_free(c);
	}
	if (r < 0) {
		log_msg(LOG_ERR, "reload failed, keeping the running configuration: %s", err.text);
		free(d->reload_error);
		d->reload_error = strdup(err.text);
		d->reloads_failed++;
	} else {
		free(d->reload_error);
		d->reload_error = NULL;
		d->reloads_ok++;
		d->config_loaded = time(NULL);
		log_msg(LOG_NOTICE, "configuration reloaded: %zu target%s", d->n_targets,
			d->n_targets == 1 ? "" : "s");
		/* A report_dir set or moved by the reload gets every page now. */
		if (!report_dir || strcmp(report_dir, d->config->daemon.report_dir) != 0)
			for (size_t i = 0; i < d->n_targets; i++)
				reporting_changed(d->reporting, d->targets[i]->name);
	}
	free(report_dir);
	daemon_update_status(d);
	service_ready();
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		reload(d);
		return;
	}
	if (d->stopping)
		return;
	/* Stop: no new runs; in-flight snapshots are cancelled (their
	 * connections closed); the outbox is on disk already. */
	d->stopping = true;
	service_stopping();
	log_msg(LOG_NOTICE, "stopping");
	for (size_t i = 0; i < d->n_targets; i++) {
		struct target *t = d->targets[i];
		evtimer_del(t->due_timer);
		evtimer_del(t->settle_timer);
		if (t->live) {
			live_snapshot_free(t->live);
			t->live = NULL;
			t->running = false;
			d->active--;
		}
	}
	event_base_loopexit(d->base, NULL);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	/* From a loop timer: a stalled loop stops the pings, which is the point. */
	service_watchdog();
}

/* Offers one alert to one channel's spool; false (err filled) when it could not. */
static bool spool_one(struct daemon *d, const struct alert *a, const char *channel,
		      struct error *err)
{
	const char *one[1] = { channel };

	if (!d->outbox) {
		error_set(err, -EBADF, "the outbox is not open (see the reload error)");
		return false;
	}
	return outbox_enqueue(d->outbox, a, one, 1, err) == 0;
}

static void keep_unspooled(struct daemon *d, const struct alert *a, const char *channel)
{
	struct unspooled *u = realloc(d->unspooled, (d->n_unspooled + 1) * sizeof(*u));
	struct timeval again = { 5, 0 };

	if (!u) {
		log_target(LOG_CRIT, a->target, NULL, NULL, "alert %s to %s lost: out of memory",
			   a->id, channel);
		return;
	}
	d->unspooled = u;
	u = &d->unspooled[d->n_unspooled];
	u->alert = alert_to_json(a);
	u->channel = strdup(channel);
	if (!u->alert || !u->channel) {
		json_decref(u->alert);
		free(u->channel);
		log_target(LOG_CRIT, a->target, NULL, NULL, "alert %s to %s lost: out of memory",
			   a->id, channel);
		return;
	}
	d->n_unspooled++;
	if (d->retry_timer && !evtimer_pending(d->retry_timer, NULL))
		evtimer_add(d->retry_timer, &again);
}

/* target_env.spool: one channel at a time, what fails kept in memory. */
static void on_spool(const struct alert *a, char *const *channels, size_t n, void *arg)
{
	struct daemon *d = arg;

	/* One channel at a time: when the disk fills half-way, exactly the
	 * channels that did not get it are kept for the retry. */
	for (size_t i = 0; i < n; i++) {
		struct error e;

		if (spool_one(d, a, channels[i], &e))
			continue;
		if (e.code == -ENOENT) {
			log_target(LOG_ERR, a->target, NULL, NULL, "cannot spool the alert: %s",
				   e.text);
			continue;
		}
		log_target(LOG_ERR, a->target, NULL, NULL,
			   "cannot spool alert %s to %s: %s; kept in memory, retrying", a->id,
			   channels[i], e.text);
		keep_unspooled(d, a, channels[i]);
	}
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	size_t kept = 0;
	struct timeval again = { 5, 0 };

	(void)fd;
	(void)what;
	for (size_t i = 0; i < d->n_unspooled; i++) {
		struct unspooled *u = &d->unspooled[i];
		struct alert *a = NULL;
		struct error e;

		if (alert_from_json(u->alert, &a, &e) == 0 && spool_one(d, a, u->channel, &e)) {
			log_target(LOG_NOTICE, a->target, NULL, NULL,
				   "alert %s to %s spooled after all", a->id, u->channel);
			json_decref(u->alert);
			free(u->channel);
		} else {
			d->unspooled[kept++] = *u;
		}
		alert_free(a);
	}
	d->n_unspooled = kept;
	if (kept)
		evtimer_add(d->retry_timer, &again);
}

static void on_status_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	daemon_update_status(arg);
}

int daemon_start(struct daemon *d, const char *config_path, struct error *err)
{
	struct config *c = NULL;
	int r;

	d->config_path = strdup(config_path);
	d->base = event_base_new();
	if (!d->config_path || !d->base)
		return error_set(err, -ENOMEM, "out of memory");
	d->notify_env.base = d->base;
	d->target_env = (struct target_env){ .base = d->base, .due = on_run_due,
					     .finished = on_run_finished, .spool = on_spool,
					     .changed = on_target_changed, .arg = d,
					     .check_worker = &d->check_worker };
	if ((r = http_client_new(d->base, &d->notify_env.http, err)) < 0)
		return r;
	/* Exactly what --check-config checks: a file it passes starts. */
	if ((r = daemon_load_config(config_path, false, &c, err)) < 0) {
		d->config_invalid = true;
		return r;
	}
	d->config_loaded = time(NULL);
	if ((r = store_central_from_config(c, true, &d->central, err)) < 0) {
		config_free(c);
		return r;
	}
	if (d->central) {
		/* Not reachable now: the runs fail (and alert) until it is. */
		bool migrated = false;
		struct error e;

		if (store_central_check(d->central, &migrated, &e) < 0)
			log_msg(LOG_ERR, "store: %s; runs fail until it answers", e.text);
		else
			log_msg(LOG_NOTICE, "store: %s%s", store_central_where(d->central),
				migrated ? " (schema " STORE_PG_SCHEMA " created or migrated)" : "");
		d->target_env.central = d->central;
	}
	if (c->daemon.coordination) {
		if ((r = fleet_new(d, c, &d->fleet, err)) < 0) {
			config_free(c);
			return r;
		}
		/* The central store shares the alert states and the baseline itself. */
		if (!d->central) {
			d->target_env.state_saved = on_state_saved;
			d->target_env.baseline_seen = on_baseline_seen;
		}
	}
	if ((r = apply_config(d, c, true, err)) < 0) {
		config_free(c);
		return r;
	}
	d->sig_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
	d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
	d->status_timer = event_new(d->base, -1, EV_PERSIST, on_status_timer, d);
	d->retry_timer = evtimer_new(d->base, on_retry_timer, d);
	if (!d->sig_hup || !d->sig_term || !d->sig_int || !d->status_timer || !d->retry_timer)
		return error_set(err, -ENOMEM, "out of memory");
	evsignal_add(d->sig_hup, NULL);
	evsignal_add(d->sig_term, NULL);
	evsignal_add(d->sig_int, NULL);
	struct timeval ten = { 10, 0 };
	evtimer_add(d->status_timer, &ten);
	d->watchdog_usec = service_watchdog_usec();
	if (d->watchdog_usec) {
		struct timeval half = { (time_t)(d->watchdog_usec / 2000000),
					(suseconds_t)(d->watchdog_usec / 2 % 1000000) };
		d->watchdog = event_new(d->base, -1, EV_PERSIST, on_watchdog, d);
		if (!d->watchdog)
			return error_set(err, -ENOMEM, "out of memory");
		evtimer_add(d->watchdog, &half);
	}
	if ((r = control_open(d, d->config->daemon.runtime_dir, &d->control, err)) < 0)
		return r;
	if (reporting_new(d, &d->reporting) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	/* The report exists from the start, then follows the changes. */
	for (size_t i = 0; i < d->n_targets; i++)
		reporting_changed(d->reporting, d->targets[i]->name);
	if (d->config->daemon.metrics_listen[0] &&
	    (r = metrics_open(d, d->config->daemon.metrics_listen, &d->metrics, err)) < 0)
		return r;
	if (d->fleet)
		fleet_start(d->fleet);
	log_msg(LOG_NOTICE, "started: %zu target%s, %zu notifier%s", d->n_targets,
		d->n_targets == 1 ? "" : "s", d->n_channels, d->n_channels == 1 ? "" : "s");
	daemon_update_status(d);
	service_ready();
	return 0;
}

void daemon_stop(struct daemon *d)
{
	fleet_free(d->fleet);
	for (size_t i = 0; i < d->n_targets; i++)
		target_free(d->targets[i]);
	free(d->targets);
	free(d->waitq);
	worker_free(d->check_worker);
	metrics_close(d->metrics);
	reporting_free(d->reporting);
	store_central_free(d->central); /* after every user: the targets, the report thread */
	control_close(d->control);
	outbox_close(d->outbox);
	free_channels(d->channels, d->n_channels);
	http_client_free(d->notify_env.http);
	if (d->sig_hup)
		event_free(d->sig_hup);
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->watchdog)
		event_free(d->watchdog);
	if (d->status_timer)
		event_free(d->status_timer);
	if (d->retry_timer)
		event_free(d->retry_timer);
	for (size_t i = 0; i < d->n_unspooled; i++) {
		log_target(LOG_ERR, json_string_value(json_object_get(d->unspooled[i].alert,
									"target")),
			   NULL, NULL, "alert to %s never spooled (the daemon stops)",
			   d->unspooled[i].channel);
		json_decref(d->unspooled[i].alert);
		free(d->unspooled[i].channel);
	}
	free(d->unspooled);
	config_free(d->config);
	for (size_t i = 0; i < d->n_chstats; i++)
		free(d->chstats[i].name);
	free(d->chstats);
	free(d->reload_error);
	free(d->config_path);
	if (d->base)
		event_base_free(d->base);
}
