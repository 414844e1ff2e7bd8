/* Prometheus text at /metrics and a liveness answer at /healthz (off unless configured). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "daemon.h"

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

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct daemon *d = m->d;
	struct evbuffer *b = evbuffer_new();
	struct outbox_stats os = { 0 };

	if (!b) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (d->outbox)
		outbox_get_stats(d->outbox, &os);
	evbuffer_add_printf(b, "# HELP schemadrift_targets Targets monitored.\n"
			       "# TYPE schemadrift_targets gauge\nschemadrift_targets %zu\n",
			    d->n_targets);
	static const struct {
		const char *name, *help, *type;
	} per_target[] = {
		{ "schemadrift_drift", "1 while the schema differs from its baseline.", "gauge" },
		{ "schemadrift_failing", "1 while runs fail.", "gauge" },
		{ "schemadrift_last_success_timestamp_seconds", "When a run last succeeded.", "gauge" },
		{ "schemadrift_last_run_duration_seconds", "How long the last run took.", "gauge" },
		{ "schemadrift_runs_total", "Runs done.", "counter" },
		{ "schemadrift_run_failures_total", "Runs that failed.", "counter" },
		{ "schemadrift_probe_unchanged_total", "Runs the change probe answered alone.", "counter" },
	};
	for (size_t k = 0; k < sizeof(per_target) / sizeof(per_target[0]); k++) {
		evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", per_target[k].name,
				    per_target[k].help, per_target[k].name, per_target[k].type);
		for (size_t i = 0; i < d->n_targets; i++) {
			const struct target *t = d->targets[i];
			double v = k == 0 ? t->drifting : k == 1 ? t->failing
				 : k == 2 ? (double)(t->last_success_ms / 1000)
				 : k == 3 ? (double)t->last_duration_ms / 1000.0
				 : k == 4 ? (double)t->runs : k == 5 ? (double)t->failures
				 : (double)t->probes_unchanged;
			evbuffer_add_printf(b, "%s{target=\"", per_target[k].name);
			label(b, t->name);
			evbuffer_add_printf(b, "\"} %.17g\n", v);
		}
	}
	for (int k = 0; k < 2; k++) {
		const char *name = k ? "schemadrift_alerts_failed_total" : "schemadrift_alerts_sent_total";
		evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s counter\n", name,
				    k ? "Alerts given up or dropped, per notifier."
				      : "Alerts a notifier accepted, per notifier.", name);
		for (size_t i = 0; i < d->n_chstats; i++) {
			evbuffer_add_printf(b, "%s{notifier=\"", name);
			label(b, d->chstats[i].name);
			evbuffer_add_printf(b, "\"} %llu\n", (unsigned long long)(k ? d->chstats[i].failed
											 : d->chstats[i].sent));
		}
	}
	evbuffer_add_printf(b,
			    "# HELP schemadrift_outbox_depth Alerts waiting in the outbox.\n"
			    "# TYPE schemadrift_outbox_depth gauge\nschemadrift_outbox_depth %zu\n",
			    os.entries);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void on_healthz(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b = evbuffer_new();

	(void)arg;
	/* Answered from the loop: if this answers, the loop is turning. */
	evbuffer_add_printf(b, "ok\n");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

int metrics_open(struct daemon *d, const char *listen, struct metrics **ret, struct error *err)
{
	struct metrics *m = calloc(1, sizeof(*m));
	char host[256];
	const char *colon = strrchr(listen, ':');
	long port;

	if (!m)
		return error_set(err, -ENOMEM, "out of memory");
	if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof(host) ||
	    (port = strtol(colon + 1, NULL, 10)) <= 0 || port > 65535) {
		free(m);
		return error_set(err, -EINVAL, "metrics_listen '%s': expected HOST:PORT", listen);
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	m->d = d;
	m->http = evhttp_new(d->base);
	if (!m->http || evhttp_bind_socket(m->http, host, (unsigned short)port) < 0) {
		if (m->http)
			evhttp_free(m->http);
		free(m);
		return error_set(err, -EADDRNOTAVAIL, "metrics_listen %s: cannot listen", listen);
	}
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
