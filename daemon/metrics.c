/* Prometheus text at /metrics and a liveness answer at /healthz (off unless configured). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netdb.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "daemon.h"
#include "version.h"

struct metrics {
	struct daemon *d;
	struct evhttp *http;
};

/* Prometheus label values: backslash, double quote and newline escaped. */
static void label(struct evbuffer *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			evbuffer_add_printf(b, "\\%c", *v);
		else if (*v == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, v, 1);
	}
}

/* The shortest text that reads back as v (0.041, not %.17g's 0.041000000000000002);
 * whole numbers (counters, timestamps) without an exponent. */
static void value(struct evbuffer *b, double v)
{
	char text[32];

	if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(long long)v) {
		evbuffer_add_printf(b, " %lld\n", (long long)v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(text, sizeof(text), "%.*g", prec, v);
		if (strtod(text, NULL) == v)
			break;
	}
	evbuffer_add_printf(b, " %s\n", text);
}

static void family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample: name{key="val"} v, or name v without a key. */
static void sample(struct evbuffer *b, const char *name, const char *key, const char *val,
		   double v)
{
	evbuffer_add_printf(b, "%s", name);
	if (key) {
		evbuffer_add_printf(b, "{%s=\"", key);
		label(b, val);
		evbuffer_add(b, "\"}", 2);
	}
	value(b, v);
}

/* [daemon] coordination: this daemon's share of the fleet (docs/operations.md). */
static void fleet_metrics(struct daemon *d, struct evbuffer *b)
{
	struct fleet_stats st;

	fleet_get_stats(d->fleet, &st);
	family(b, "schemadrift_coordination_up", "gauge",
	       "1 when the last coordination round succeeded.");
	sample(b, "schemadrift_coordination_up", NULL, NULL, st.up);
	family(b, "schemadrift_coordination_live_nodes", "gauge",
	       "Daemons with a live heartbeat, at the last round.");
	sample(b, "schemadrift_coordination_live_nodes", NULL, NULL, (double)st.live_nodes);
	family(b, "schemadrift_leases_held", "gauge", "Targets this daemon holds a lease on.");
	sample(b, "schemadrift_leases_held", NULL, NULL, (double)st.leases_held);
	family(b, "schemadrift_lease_held", "gauge",
	       "1 while this daemon holds the target's lease.");
	for (size_t i = 0; i < d->n_targets; i++)
		sample(b, "schemadrift_lease_held", "target", d->targets[i]->name,
		       target_may_run(d->targets[i]));
	family(b, "schemadrift_lease_acquisitions_total", "counter",
	       "Leases taken: at start, on a rebalance or a takeover.");
	sample(b, "schemadrift_lease_acquisitions_total", NULL, NULL, (double)st.acquired);
	family(b, "schemadrift_lease_takeovers_total", "counter",
	       "Leases taken over from another daemon after they expired.");
	sample(b, "schemadrift_lease_takeovers_total", NULL, NULL, (double)st.takeovers);
	family(b, "schemadrift_leases_expired_total", "counter",
	       "Leases that expired here without renewal (coordination database away).");
	sample(b, "schemadrift_leases_expired_total", NULL, NULL, (double)st.expired);
	family(b, "schemadrift_coordination_rounds_total", "counter",
	       "Coordination rounds, by outcome.");
	sample(b, "schemadrift_coordination_rounds_total", "outcome", "ok", (double)st.rounds_ok);
	sample(b, "schemadrift_coordination_rounds_total", "outcome", "failed",
	       (double)st.rounds_failed);
	family(b, "schemadrift_coordination_queries_total", "counter",
	       "Statements sent to the coordination database.");
	sample(b, "schemadrift_coordination_queries_total", NULL, NULL, (double)st.queries);
}

/* [daemon] store = postgresql: what the central store costs its database. */
static void store_metrics(struct daemon *d, struct evbuffer *b)
{
	family(b, "schemadrift_store_queries_total", "counter",
	       "Statements sent to the central store's database (store = postgresql).");
	sample(b, "schemadrift_store_queries_total", NULL, NULL,
	       (double)store_central_queries(d->central));
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct daemon *d = m->d;
	struct evbuffer *b = evbuffer_new();
	struct outbox_stats os = { 0 };
	struct timespec now;

	if (!b) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (d->outbox)
		outbox_get_stats(d->outbox, &os);
	family(b, "schemadrift_build_info", "gauge", "Always 1; the version is a label.");
	sample(b, "schemadrift_build_info", "version", SCHEMADRIFT_VERSION, 1);
	family(b, "schemadrift_targets", "gauge", "Targets monitored.");
	sample(b, "schemadrift_targets", NULL, NULL, (double)d->n_targets);
	static const struct {
		const char *name, *help, *type;
	} per_target[] = {
		{ "schemadrift_drift", "1 while the schema differs from its baseline.", "gauge" },
		{ "schemadrift_failing", "1 while runs fail.", "gauge" },
		{ "schemadrift_last_success_timestamp_seconds",
		  "When a run last succeeded (no sample before the first success).", "gauge" },
		{ "schemadrift_last_run_duration_seconds", "How long the last run took.", "gauge" },
		{ "schemadrift_runs_total", "Runs done.", "counter" },
		{ "schemadrift_run_failures_total", "Runs that failed.", "counter" },
		{ "schemadrift_probe_unchanged_total", "Runs the change probe answered alone.", "counter" },
	};
	for (size_t k = 0; k < sizeof(per_target) / sizeof(per_target[0]); k++) {
		family(b, per_target[k].name, per_target[k].type, per_target[k].help);
		for (size_t i = 0; i < d->n_targets; i++) {
			const struct target *t = d->targets[i];
			double v = k == 0 ? t->drifting : k == 1 ? t->failing
				 : k == 2 ? (double)(t->last_success_ms / 1000)
				 : k == 3 ? (double)t->last_duration_ms / 1000.0
				 : k == 4 ? (double)t->runs : k == 5 ? (double)t->failures
				 : (double)t->probes_unchanged;
			/* A 0 would read as "last succeeded in 1970". */
			if (k == 2 && !t->last_success_ms)
				continue;
			sample(b, per_target[k].name, "target", t->name, v);
		}
	}
	for (int k = 0; k < 2; k++) {
		const char *name = k ? "schemadrift_alerts_failed_total" : "schemadrift_alerts_sent_total";
		family(b, name, "counter", k ? "Alerts given up or dropped, per notifier."
					      : "Alerts a notifier accepted, per notifier.");
		for (size_t i = 0; i < d->n_chstats; i++)
			sample(b, name, "notifier", d->chstats[i].name,
			       (double)(k ? d->chstats[i].failed : d->chstats[i].sent));
	}
	target_checks_metrics(d->targets, d->n_targets, b, label);
	if (d->fleet)
		fleet_metrics(d, b);
	if (d->central)
		store_metrics(d, b);
	family(b, "schemadrift_outbox_depth", "gauge", "Alerts waiting in the outbox.");
	sample(b, "schemadrift_outbox_depth", NULL, NULL, (double)os.entries);
	family(b, "schemadrift_outbox_oldest_age_seconds", "gauge",
	       "Age of the oldest alert waiting in the outbox (0 when it is empty).");
	sample(b, "schemadrift_outbox_oldest_age_seconds", NULL, NULL,
	       os.oldest_ms ? ((double)now.tv_sec * 1000 + now.tv_nsec / 1000000 - os.oldest_ms) /
				      1000.0
			    : 0);
	family(b, "schemadrift_outbox_dead_letters", "gauge",
	       "Alerts given up and kept in the outbox's dead/ directory.");
	sample(b, "schemadrift_outbox_dead_letters", NULL, NULL, (double)os.dead);
	family(b, "schemadrift_config_reloads_total", "counter",
	       "Configuration reloads (SIGHUP), by result.");
	sample(b, "schemadrift_config_reloads_total", "result", "success", (double)d->reloads_ok);
	sample(b, "schemadrift_config_reloads_total", "result", "failure",
	       (double)d->reloads_failed);
	family(b, "schemadrift_config_last_reload_successful", "gauge",
	       "1 when the last reload succeeded (or none was tried), 0 when it failed.");
	sample(b, "schemadrift_config_last_reload_successful", NULL, NULL, d->reload_error ? 0 : 1);
	family(b, "schemadrift_config_last_reload_success_timestamp_seconds", "gauge",
	       "When the running configuration was loaded, at startup or by a reload.");
	sample(b, "schemadrift_config_last_reload_success_timestamp_seconds", NULL, NULL,
	       (double)d->config_loaded);
	family(b, "schemadrift_alerts_unspooled", "gauge",
	       "Alerts the outbox could not take (a full disk), kept in memory and retried.");
	sample(b, "schemadrift_alerts_unspooled", NULL, NULL, (double)d->n_unspooled);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void on_healthz(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b = evbuffer_new();

	(void)arg;
	if (!b) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	/* Answered from the loop: if this answers, the loop is turning. */
	evbuffer_add_printf(b, "ok\n");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

int metrics_check_host(const char *host, unsigned short port, struct error *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char service[8];
	int r;

	snprintf(service, sizeof(service), "%u", port);
	r = getaddrinfo(host, service, &hints, &ai);
	if (r != 0)
		return error_set(err, -EADDRNOTAVAIL, "host '%s': %s", host, gai_strerror(r));
	freeaddrinfo(ai);
	return 0;
}

int metrics_open(struct daemon *d, const char *listen, struct metrics **ret, struct error *err)
{
	struct metrics *m = calloc(1, sizeof(*m));
	char *host = NULL;
	unsigned short port;
	int r;

	if (!m)
		return error_set(err, -ENOMEM, "out of memory");
	if ((r = config_listen_split(listen, &host, &port, err)) < 0) {
		free(m);
		return r;
	}
	m->d = d;
	m->http = evhttp_new(d->base);
	if (!m->http || evhttp_bind_socket(m->http, host, port) < 0) {
		int e = errno;
		if (m->http)
			evhttp_free(m->http);
		free(m);
		free(host);
		return error_set(err, -EADDRNOTAVAIL, "metrics_listen %s: cannot listen: %s", listen,
				 strerror(e));
	}
	free(host);
	evhttp_set_cb(m->http, "/metrics", on_metrics, m);
	evhttp_set_cb(m->http, "/healthz", on_healthz, m);
	*ret = m;
	return 0;
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	evhttp_free(m->http);
	free(m);
}
