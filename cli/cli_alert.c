/* schemadrift test-alert (a test alert through one notifier) and outbox-drain (diagnostic). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "alert.h"
#include "cli.h"
#include "ini.h"
#include "http.h"
#include "notify.h"
#include "outbox.h"

/* A send that never answers (a channel bug) must not hang the command. */
#define TEST_ALERT_GUARD_S 600
#define LAG_TICK_MS 10
#define LAG_HIST_MS 1000

static const char *status_word(enum notify_status s)
{
	switch (s) {
	case NOTIFY_DELIVERED:
		return "delivered";
	case NOTIFY_RETRY:
		return "not delivered (temporary failure, would be retried)";
	case NOTIFY_FAILED:
		return "not delivered (permanent failure)";
	}
	return "unknown";
}

/* The loop, the HTTP client and the config every command here needs. */
struct alert_env {
	struct ini *conf;
	struct event_base *base;
	struct notify_env env;
	struct event *sigint, *sigterm;
};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopexit(arg, NULL);
}

static int env_open(const struct cli *c, const char *command, struct alert_env *ae)
{
	struct error err;

	memset(ae, 0, sizeof(*ae));
	if (!c->config) {
		cli_fail("%s needs --config FILE", command);
		return -1;
	}
	if (ini_load(c->config, &ae->conf, &err) < 0) {
		cli_fail("%s", err.text);
		return -1;
	}
	ae->base = event_base_new();
	if (!ae->base) {
		cli_fail("cannot create an event loop");
		return -1;
	}
	if (http_client_new(ae->base, &ae->env.http, &err) < 0) {
		cli_fail("%s", err.text);
		return -1;
	}
	ae->env.base = ae->base;
	ae->sigint = evsignal_new(ae->base, SIGINT, on_signal, ae->base);
	ae->sigterm = evsignal_new(ae->base, SIGTERM, on_signal, ae->base);
	if (!ae->sigint || !ae->sigterm || evsignal_add(ae->sigint, NULL) < 0 ||
	    evsignal_add(ae->sigterm, NULL) < 0) {
		cli_fail("cannot watch signals");
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Channels must go first: they drop their sends on the client (notify.h). */
static void env_close(struct alert_env *ae)
{
	if (ae->sigint)
		event_free(ae->sigint);
	if (ae->sigterm)
		event_free(ae->sigterm);
	http_client_free(ae->env.http);
	if (ae->base)
		event_base_free(ae->base);
	ini_free(ae->conf);
}

/* ------------------------------------------------------------ test-alert */

struct test_send {
	struct event_base *base;
	bool done;
	struct notify_result res;
};

static void test_done(struct notify_channel *ch, const struct notify_result *res, void *arg)
{
	struct test_send *t = arg;

	(void)ch;
	t->res = *res;
	t->done = true;
	event_base_loopexit(t->base, NULL);
}

int cli_cmd_test_alert(const struct cli *c, int argc, char **argv)
{
	struct timeval guard = { TEST_ALERT_GUARD_S, 0 };
	struct test_send t = { 0 };
	struct notify_channel *ch = NULL;
	const struct ini_section *s;
	struct alert_env ae;
	struct alert *a = NULL;
	struct error err;
	char host[256], text[512];
	int status = EXIT_TROUBLE, r;

	(void)argv;
	if (argc != 0) {
		cli_fail("test-alert takes no arguments (--config FILE --channel NAME)");
		return EXIT_TROUBLE;
	}
	if (!c->channel) {
		cli_fail("test-alert needs --channel NAME (a [notifier NAME] section)");
		return EXIT_TROUBLE;
	}
	if (env_open(c, "test-alert", &ae) < 0)
		goto out;
	s = ini_find(ae.conf, "notifier", c->channel);
	if (!s) {
		cli_fail("%s: no [notifier %s] section", c->config, c->channel);
		goto out;
	}
	if (notify_channel_new(&ae.env, s, &ch, &err) < 0) {
		cli_fail("%s", err.text);
		goto out;
	}
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "an unnamed host");
	host[sizeof(host) - 1] = '\0';
	snprintf(text, sizeof(text),
		 "This is a test alert from schemadrift on %s, sent by `schemadrift test-alert` "
		 "through the notifier '%s'.", host, c->channel);
	if (alert_new(ALERT_TEST, NULL, &a) < 0 || alert_set_str(&a->message, text) < 0) {
		cli_fail("out of memory");
		goto out;
	}
	t.base = ae.base;
	r = ch->backend->send(ch, a, test_done, &t);
	if (r < 0) {
		cli_fail("notifier '%s': cannot start the delivery: %s", c->channel, strerror(-r));
		goto out;
	}
	event_base_loopexit(ae.base, &guard);
	event_base_dispatch(ae.base);
	if (!t.done) {
		cli_fail("notifier '%s': no answer (interrupted or timed out)", c->channel);
		goto out;
	}
	printf("notifier '%s' (%s): %s\n", c->channel, ch->backend->name,
	       status_word(t.res.status));
	printf("answer: %s\n", t.res.detail[0] ? t.res.detail : "(none)");
	if (t.res.retry_after_s > 0)
		printf("retry after: %d s\n", t.res.retry_after_s);
	printf("alert id: %s\n", a->id);
	if (fflush(stdout) != 0) {
		cli_fail("cannot write to standard output: %s", strerror(errno));
		goto out;
	}
	status = t.res.status == NOTIFY_DELIVERED ? EXIT_SAME : EXIT_TROUBLE;
out:
	alert_free(a);
	notify_channel_free(ch);
	env_close(&ae);
	return status;
}

/* ------------------------------------------------------------ outbox-drain */

struct drain {
	struct event_base *base;
	struct outbox *ob; /* NULL while opening */
	struct event *tick;
	struct timespec armed;
	double worst_lag_ms;
	uint64_t ticks;
	uint64_t lag_hist[LAG_HIST_MS + 1]; /* ticks by lag in whole ms; the last bucket: more */
};

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void arm_tick(struct drain *d)
{
	struct timeval tv = { 0, LAG_TICK_MS * 1000 };

	clock_gettime(CLOCK_MONOTONIC, &d->armed);
	evtimer_add(d->tick, &tv);
}

/* How late the loop ran a 10 ms timer: the time something blocked it. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct drain *d = arg;
	double due = (double)d->armed.tv_sec * 1000.0 + (double)d->armed.tv_nsec / 1e6 +
		     LAG_TICK_MS;
	double lag = mono_ms() - due;

	(void)fd;
	(void)what;
	if (lag > d->worst_lag_ms)
		d->worst_lag_ms = lag;
	d->lag_hist[lag <= 0 ? 0 : lag >= LAG_HIST_MS ? LAG_HIST_MS : (size_t)lag]++;
	d->ticks++;
	arm_tick(d);
}

/* The lag 99 % of the ticks stayed under, in whole ms. */
static unsigned p99_lag_ms(const struct drain *d)
{
	uint64_t seen = 0;

	for (unsigned i = 0; i <= LAG_HIST_MS; i++) {
		seen += d->lag_hist[i];
		if (seen * 100 >= d->ticks * 99)
			return i + 1;
	}
	return LAG_HIST_MS;
}

static bool drained(struct drain *d)
{
	struct outbox_stats st;

	if (!d->ob)
		return false;
	outbox_get_stats(d->ob, &st);
	return st.in_flight == 0 && st.entries == st.unroutable;
}

static void on_outbox_event(const struct outbox_event *ev, void *arg)
{
	struct drain *d = arg;
	const char *id = ev->alert_id ? ev->alert_id : "-";
	const char *ch = ev->channel ? ev->channel : "-";
	const char *target = ev->target ? ev->target : "-";
	const char *detail = ev->result && ev->result->detail[0] ? ev->result->detail : "";

	switch (ev->kind) {
	case OUTBOX_DELIVERED:
		printf("delivered %s %s %s attempts=%u\n", id, ch, target, ev->attempts);
		break;
	case OUTBOX_RETRYING: {
		struct timespec now;
		int64_t now_ms;

		clock_gettime(CLOCK_REALTIME, &now);
		now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
		printf("retrying %s %s %s attempts=%u next_in_ms=%" PRId64 ": %s\n", id, ch,
		       target, ev->attempts, ev->next_attempt_ms - now_ms, detail);
		break;
	}
	case OUTBOX_GAVE_UP:
		printf("gave-up %s %s %s attempts=%u: %s (in %s)\n", id, ch, target, ev->attempts,
		       ev->reason, ev->path ? ev->path : "-");
		break;
	case OUTBOX_DROPPED:
		printf("dropped %s %s %s: %s\n", id, ch, target, ev->reason);
		break;
	case OUTBOX_CORRUPT:
		printf("corrupt %s: %s\n", ev->path, ev->reason);
		break;
	case OUTBOX_UNROUTABLE:
		printf("unroutable %s: %zu entries: %s\n", ch, ev->count, ev->reason);
		break;
	}
	if (drained(d))
		event_base_loopexit(d->base, NULL);
}

static int enqueue_test(struct outbox *ob, long n)
{
	enum { TARGETS = 4 };
	long per_target[TARGETS] = { 0 };
	struct error err;

	for (long i = 0; i < n; i++) {
		char target[32], text[128];
		struct alert *a;
		int t = (int)(i % TARGETS), r;

		snprintf(target, sizeof(target), "drain-test-%d", t);
		snprintf(text, sizeof(text), "outbox-drain test alert %s #%ld", target,
			 ++per_target[t]);
		if (alert_new(ALERT_TEST, target, &a) < 0 || alert_set_str(&a->message, text) < 0) {
			cli_fail("out of memory");
			return -1;
		}
		r = outbox_enqueue(ob, a, NULL, 0, &err);
		alert_free(a);
		if (r < 0) {
			cli_fail("%s", err.text);
			return -1;
		}
	}
	return 0;
}

int cli_cmd_outbox_drain(const struct cli *c, int argc, char **argv)
{
	struct notify_channel **chs = NULL;
	struct outbox_options o;
	struct outbox_stats st;
	struct drain d = { 0 };
	struct alert_env ae;
	struct error err;
	size_t n_chs = 0;
	long n_test = 0;
	int status = EXIT_TROUBLE;

	(void)argv;
	setvbuf(stdout, NULL, _IOLBF, 0); /* progress is read line by line */
	if (argc != 0) {
		cli_fail("outbox-drain takes no arguments (--config FILE --spool DIR "
			 "[--enqueue-test N])");
		return EXIT_TROUBLE;
	}
	if (!c->spool) {
		cli_fail("outbox-drain needs --spool DIR");
		return EXIT_TROUBLE;
	}
	if (c->enqueue_test) {
		char *end;
		errno = 0;
		n_test = strtol(c->enqueue_test, &end, 10);
		if (errno || *end || end == c->enqueue_test || n_test < 1 || n_test > 1000000) {
			cli_fail("--enqueue-test takes a count from 1 to 1000000");
			return EXIT_TROUBLE;
		}
	}
	if (env_open(c, "outbox-drain", &ae) < 0)
		goto out;
	outbox_options_init(&o);
	if (outbox_options_from_conf(&o, ini_find(ae.conf, "daemon", NULL), &err) < 0) {
		cli_fail("%s", err.text);
		goto out;
	}
	chs = calloc(ae.conf->n_sections ? ae.conf->n_sections : 1, sizeof(*chs));
	if (!chs) {
		cli_fail("out of memory");
		goto out;
	}
	for (size_t i = 0; i < ae.conf->n_sections; i++) {
		const struct ini_section *s = &ae.conf->sections[i];

		if (strcmp(s->kind, "notifier") != 0)
			continue;
		if (c->channel && strcmp(s->name, c->channel) != 0)
			continue;
		if (notify_channel_new(&ae.env, s, &chs[n_chs], &err) < 0) {
			cli_fail("%s", err.text);
			goto out;
		}
		n_chs++;
	}
	if (n_chs == 0) {
		cli_fail("%s: no [notifier NAME] section%s%s", c->config,
			 c->channel ? " named " : "", c->channel ? c->channel : "");
		goto out;
	}
	d.base = ae.base;
	o.on_event = on_outbox_event;
	o.arg = &d;
	if (outbox_open(c->spool, &o, &ae.env, chs, n_chs, &d.ob, &err) < 0) {
		cli_fail("%s", err.text);
		goto out;
	}
	if (n_test) {
		if (enqueue_test(d.ob, n_test) < 0)
			goto out;
		printf("enqueued %ld alerts x %zu channels\n", n_test, n_chs);
	}
	outbox_get_stats(d.ob, &st);
	printf("draining %zu entries (%zu bytes)\n", st.entries, st.bytes);
	/* The probe starts with the drain: it measures delivery, not the enqueue's fsyncs. */
	d.tick = evtimer_new(ae.base, on_tick, &d);
	if (!d.tick) {
		cli_fail("out of memory");
		goto out;
	}
	arm_tick(&d);
	if (!drained(&d))
		event_base_dispatch(ae.base);
	outbox_get_stats(d.ob, &st);
	printf("drained: delivered=%" PRIu64 " retries=%" PRIu64 " given_up=%" PRIu64
	       " dropped=%" PRIu64 " corrupt=%" PRIu64 " left=%zu unroutable=%zu"
	       " worst_lag_ms=%.1f p99_lag_ms=%u ticks=%" PRIu64 "\n",
	       st.delivered, st.retries, st.given_up, st.dropped, st.corrupt, st.entries,
	       st.unroutable, d.worst_lag_ms, p99_lag_ms(&d), d.ticks);
	status = drained(&d) ? EXIT_SAME : EXIT_TROUBLE;
out:
	if (d.tick)
		event_free(d.tick);
	outbox_close(d.ob);
	for (size_t i = 0; i < n_chs; i++)
		notify_channel_free(chs[i]);
	free(chs);
	env_close(&ae);
	return status;
}
