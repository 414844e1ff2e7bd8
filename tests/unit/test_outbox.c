/* Unit tests for lib/outbox.c: spooling, order, backoff, dead letters, caps, restarts, damage. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "fileio.h"
#include "outbox.h"

/*
 * The channel here is a scripted backend behind the real notify vtable: it
 * answers what the test tells it to, always later from the loop (as real
 * channels must), and records every delivery attempt.  The HTTP channels
 * against a real receiver are exercised by tests/integration/test_outbox.py.
 */

#define MAX_LOG 4096

struct script {
	/* Answers, consumed in order; when empty, `fallback`. */
	enum notify_status answers[64];
	int retry_after[64];
	size_t n_answers, next_answer;
	enum notify_status fallback;
	char retry_target[16]; /* this target's sends answer RETRY ... */
	unsigned retry_times;  /* ... this many times */
	bool hold; /* keep sends pending until release_held() */
	struct held {
		notify_done_fn done;
		void *arg;
		struct notify_channel *ch;
	} held[256];
	size_t n_held;
	unsigned in_flight, max_in_flight;
	char log[MAX_LOG][64]; /* "target/message" per attempt */
	size_t n_log;
};

struct pending {
	struct notify_channel *ch;
	notify_done_fn done;
	void *arg;
	struct notify_result res;
};

static struct event_base *base;
static struct notify_env env;
static int64_t fake_now = 1700000000000;

static int64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static void finish(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	struct script *s = p->ch->state;

	(void)fd;
	(void)what;
	s->in_flight--;
	p->done(p->ch, &p->res, p->arg);
	free(p);
}

static int script_send(struct notify_channel *ch, const struct alert *a, notify_done_fn done,
		       void *arg)
{
	struct script *s = ch->state;
	struct timeval zero = { 0, 0 };
	struct pending *p;

	ck_assert_uint_lt(s->n_log, MAX_LOG);
	snprintf(s->log[s->n_log++], sizeof(s->log[0]), "%s/%s", a->target ? a->target : "-",
		 a->message ? a->message : "-");
	if (++s->in_flight > s->max_in_flight)
		s->max_in_flight = s->in_flight;
	if (s->hold) {
		ck_assert_uint_lt(s->n_held, 256);
		s->held[s->n_held++] = (struct held){ done, arg, ch };
		return 0;
	}
	p = calloc(1, sizeof(*p));
	ck_assert_ptr_nonnull(p);
	p->ch = ch;
	p->done = done;
	p->arg = arg;
	if (s->retry_times && a->target && strcmp(a->target, s->retry_target) == 0) {
		s->retry_times--;
		p->res.status = NOTIFY_RETRY;
	} else if (s->next_answer < s->n_answers) {
		p->res.status = s->answers[s->next_answer];
		p->res.retry_after_s = s->retry_after[s->next_answer];
		s->next_answer++;
	} else {
		p->res.status = s->fallback;
	}
	snprintf(p->res.detail, sizeof(p->res.detail), "HTTP %s",
		 p->res.status == NOTIFY_DELIVERED ? "200"
		 : p->res.status == NOTIFY_FAILED  ? "404 no such hook"
						   : "503 busy");
	/* Never from inside send: the loop calls done. */
	ck_assert_int_eq(event_base_once(base, -1, EV_TIMEOUT, finish, p, &zero), 0);
	return 0;
}

static void script_destroy(struct notify_channel *ch)
{
	(void)ch;
}

static const struct notify_backend script_backend = {
	.name = "script",
	.send = script_send,
	.destroy = script_destroy,
};

static struct notify_channel *channel(const char *name, struct script *s)
{
	struct notify_channel *ch = calloc(1, sizeof(*ch));

	ck_assert_ptr_nonnull(ch);
	ch->backend = &script_backend;
	ch->name = strdup(name);
	ch->env = &env;
	ch->state = s;
	s->fallback = NOTIFY_DELIVERED;
	return ch;
}

static void channel_free(struct notify_channel *ch)
{
	free(ch->name);
	free(ch);
}

static void release_held(struct script *s, enum notify_status status)
{
	size_t n = s->n_held;

	s->n_held = 0;
	for (size_t i = 0; i < n; i++) {
		struct notify_result res = { .status = status };
		s->in_flight--;
		s->held[i].done(s->held[i].ch, &res, s->held[i].arg);
	}
}

/* Events, as lines "kind alert-message channel" for exact comparisons. */
struct recorder {
	char lines[MAX_LOG][160];
	size_t n;
	int64_t next_attempt[MAX_LOG];
	char reason[MAX_LOG][256];
	size_t count[MAX_LOG];
};
static struct recorder rec;
/* Alert ids -> the message they were created with, to name events readably. */
static char ids[MAX_LOG][40], msgs[MAX_LOG][40];
static size_t n_ids;

static const char *msg_of(const char *id)
{
	for (size_t i = 0; id && i < n_ids; i++)
		if (strcmp(ids[i], id) == 0)
			return msgs[i];
	return "?";
}

static void on_event(const struct outbox_event *ev, void *arg)
{
	static const char *const names[] = { "delivered", "retrying", "gave-up",
					     "dropped",   "corrupt",  "unroutable" };
	bool anonymous = ev->kind == OUTBOX_CORRUPT || ev->kind == OUTBOX_UNROUTABLE;

	(void)arg;
	ck_assert_uint_lt(rec.n, MAX_LOG);
	snprintf(rec.lines[rec.n], sizeof(rec.lines[0]), "%s %s %s", names[ev->kind],
		 anonymous ? "-" : msg_of(ev->alert_id), ev->channel ? ev->channel : "-");
	rec.next_attempt[rec.n] = ev->next_attempt_ms;
	snprintf(rec.reason[rec.n], sizeof(rec.reason[0]), "%s", ev->reason ? ev->reason : "");
	rec.count[rec.n] = ev->count;
	rec.n++;
}

static size_t count_events(const char *prefix)
{
	size_t n = 0;

	for (size_t i = 0; i < rec.n; i++)
		if (strncmp(rec.lines[i], prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

static struct alert *make_alert(enum alert_kind kind, const char *target, const char *msg)
{
	struct alert *a;

	ck_assert_int_eq(alert_new(kind, target, &a), 0);
	ck_assert_int_eq(alert_set_str(&a->message, msg), 0);
	ck_assert_uint_lt(n_ids, MAX_LOG);
	snprintf(ids[n_ids], sizeof(ids[0]), "%s", a->id);
	snprintf(msgs[n_ids], sizeof(msgs[0]), "%s", msg);
	n_ids++;
	return a;
}

static void enqueue(struct outbox *ob, enum alert_kind kind, const char *target,
		    const char *msg, const char *chan)
{
	struct alert *a = make_alert(kind, target, msg);
	const char *chans[1] = { chan };
	struct error err;

	ck_assert_msg(outbox_enqueue(ob, a, chan ? chans : NULL, chan ? 1 : 0, &err) == 0, "%s",
		      err.text);
	alert_free(a);
}

static struct outbox *cur; /* the open outbox, for settle() */

/* Runs the loop until nothing is left to do right now (fake time does not
 * move), including the file removals of the outbox's I/O thread. */
static void settle(void)
{
	struct outbox_stats st;

	for (;;) {
		for (int i = 0; i < 200; i++)
			ck_assert_int_ge(event_base_loop(base, EVLOOP_NONBLOCK), 0);
		if (!cur)
			return;
		outbox_get_stats(cur, &st);
		if (!st.removing)
			return;
		ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
	}
}

static void close_ob(struct outbox *ob)
{
	if (ob == cur)
		cur = NULL;
	outbox_close(ob);
}

static void advance(struct outbox *ob, int64_t ms)
{
	fake_now += ms;
	outbox_kick(ob);
	settle();
}

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_outbox.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	env.base = base;
	memset(&rec, 0, sizeof(rec));
	n_ids = 0;
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	event_base_free(base);
}

static struct outbox_options options(void)
{
	struct outbox_options o;

	outbox_options_init(&o);
	o.now = fake_clock;
	o.backoff_base_ms = 1000;
	o.backoff_factor = 2;
	o.backoff_cap_ms = 5000;
	o.jitter = 0;
	o.max_age_ms = 60000;
	o.on_event = on_event;
	return o;
}

static struct outbox *open_ok(const struct outbox_options *o, struct notify_channel **chs,
			      size_t n)
{
	struct outbox *ob;
	struct error err;

	ck_assert_msg(outbox_open(dir, o, &env, chs, n, &ob, &err) == 0, "%s", err.text);
	cur = ob;
	return ob;
}

static size_t files_in(const char *sub)
{
	char path[128];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The only file in dir/sub, parsed. */
static json_t *only_file(const char *sub)
{
	char path[128], full[512];
	struct dirent *de;
	json_t *j = NULL;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		ck_assert_ptr_null(j);
		snprintf(full, sizeof(full), "%s/%s", path, de->d_name);
		j = json_load_file(full, 0, NULL);
		ck_assert_ptr_nonnull(j);
	}
	closedir(d);
	ck_assert_ptr_nonnull(j);
	return j;
}

START_TEST(enqueue_is_on_disk_before_any_delivery)
{
	struct script s = { 0 };
	struct notify_channel *ch = channel("hook", &s);
	struct outbox_options o = options();
	struct outbox *ob = open_ok(&o, &ch, 1);
	struct outbox_stats st;
	json_t *j;

	enqueue(ob, ALERT_DRIFT, "billing", "m1", NULL);
	/* Spooled and fsync'd, not sent: delivery starts from the loop. */
	ck_assert_uint_eq(s.n_log, 0);
	ck_assert_uint_eq(files_in("queue"), 1);
	j = only_file("queue");
	ck_assert_str_eq(json_string_value(json_object_get(j, "channel")), "hook");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "alert"), "id")),
			 ids[0]);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "enqueued_ms")), fake_now);
	json_decref(j);
	outbox_get_stats(ob, &st);
	ck_assert_uint_eq(st.entries, 1);
	ck_assert_uint_gt(st.bytes, 100);

	settle();
	ck_assert_uint_eq(s.n_log, 1);
	ck_assert_str_eq(s.log[0], "billing/m1");
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_str_eq(rec.lines[0], "delivered m1 hook");
	ck_assert_uint_eq(files_in("queue"), 0);
	outbox_get_stats(ob, &st);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_eq(st.delivered, 1);
	close_ob(ob);
	channel_free(ch);
}
END_TEST

START_TEST(one_entry_per_channel_and_unknown_channels_refused)
{
	struct script s1 = { 0 }, s2 = { 0 };
	struct notify_channel *chs[2] = { channel("a", &s1), channel("b", &s2) };
	struct outbox_options o = options();
	struct outbox *ob = open_ok(&o, chs, 2);
	const char *bad[2] = { "a", "nope" };
	struct alert *al = make_alert(ALERT_DRIFT, "t", "x");
	struct error err;

	ck_assert_int_eq(outbox_enqueue(ob, al, bad, 2, &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.text, "nope"));
	ck_assert_uint_eq(files_in("queue"), 0);
	ck_assert_int_eq(outbox_enqueue(ob, al, NULL, 0, &err), 0);
	alert_free(al);
	ck_assert_uint_eq(files_in("queue"), 2);
	settle();
	ck_assert_uint_eq(s1.n_log, 1);
	ck_assert_uint_eq(s2.n_log, 1);
	ck_assert_uint_eq(count_events("delivered x"), 2);
	close_ob(ob);
	channel_free(chs[0]);
	channel_free(chs[1]);
}
END_TEST

START_TEST(order_is_kept_per_target_and_channel_while_retrying)
{
	struct script s = { 0 };
	struct notify_channel *ch = channel("hook", &s);
	struct outbox_options o = options();
	struct outbox *ob = open_ok(&o, &ch, 1);

	/* The first delivery of x1 fails twice; x2, x3 must wait, y1 must not. */
	strcpy(s.retry_target, "x");
	s.retry_times = 2;
	enqueue(ob, ALERT_DRIFT, "x", "x1", NULL);
	enqueue(ob, ALERT_DRIFT, "x", "x2", NULL);
	enqueue(ob, ALERT_DRIFT, "y", "y1", NULL);
	enqueue(ob, ALERT_DRIFT, "x", "x3", NULL);
	settle();
	/* x1 failed (retry), y1 went through; x2 never tried. */
	ck_assert_uint_eq(count_events("retrying x1"), 1);
	ck_assert_uint_eq(count_events("delivered y1"), 1);
	ck_assert_uint_eq(count_events("delivered x"), 0);
	for (size_t i = 0; i < s.n_log; i++)
		ck_assert_str_ne(s.log[i], "x/x2");

	advance(ob, 999);
	ck_assert_uint_eq(count_events("retrying x1"), 1);
	advance(ob, 1);
	ck_assert_uint_eq(count_events("retrying x1"), 2);
	advance(ob, 2000);
	ck_assert_uint_eq(rec.n, 6);
	ck_assert_str_eq(rec.lines[3], "delivered x1 hook");
	ck_assert_str_eq(rec.lines[4], "delivered x2 hook");
	ck_assert_str_eq(rec.lines[5], "delivered x3 hook");
	/* What the channel saw for x: x1 three times, then x2, then x3. */
	{
		const char *want[] = { "x/x1", "x/x1", "x/x1", "x/x2", "x/x3" };
		size_t k = 0;
		for (size_t i = 0; i < s.n_log; i++)
			if (s.log[i][0] == 'x')
				ck_assert_str_eq(s.log[i], want[k++]);
		ck_assert_uint_eq(k, 5);
	}
	close_ob(ob);
	channel_free(ch);
}
END_TEST

START_TEST(backoff_is_exponential_capped_and_jittered)
{
	struct script s = { 0 };
	struct notify_channel *ch = channel("hook", &s);
	struct outbox_options o = options();
	struct outbox *ob;
	int64_t t0 = fake_now;
	const int64_t want[] = { 1000, 2000, 4000, 5000, 5000 };
	int64_t at = t0;

	s.fallback = NOTIFY_RETRY;
	ob = open_ok(&o, &ch, 1);
	enqueue(ob, ALERT_DRIFT, "x", "x1", NULL);
	settle();
	for (size_t i = 0; i < 5; i++) {
		ck_assert_uint_eq(rec.n, i + 1);
		ck_assert_int_eq(rec.next_attempt[i] - at, want[i]);
		at = rec.next_attempt[i];
		advance(ob, at - fake_now);
	}
	close_ob(ob);

	/* With jitter, each delay lies in [d * (1 - jitter), d]. */
	memset(&rec, 0, sizeof(rec));
	o.jitter = 0.5;
	o.seed = 42;
	o.max_age_ms = 1000000;
	ob = open_ok(&o, &ch, 1);
	settle();
	at = fake_now;
	int64_t first_capped = -1;
	bool varied = false;
	for (size_t i = 0; i < 20; i++) {
		int64_t d = (i < 3 ? 1000 << i : 5000), got;
		ck_assert_uint_eq(rec.n, i + 1);
		got = rec.next_attempt[i] - at;
		ck_assert_int_ge(got, d / 2);
		ck_assert_int_le(got, d);
		if (i == 3)
			first_capped = got;
		else if (i > 3 && got != first_capped)
			varied = true;
		at = rec.next_attempt[i];
		advance(ob, at - fake_now);
	}
	ck_assert(varied); /* not one fixed delay: jitter spreads retries */
	close_ob(ob);
	channel_free(ch);
}
END_TEST

START_TEST(retry_after_holds_the_channel)
{
	struct script s1 = { 0 }, s2 = { 0 };
	struct notify_channel *chs[2] = { channel("slow", &s1), channel("other", &s2) };
	struct outbox_options o = options();
	struct outbox *ob = open_ok(&o, chs, 2);

	s1.answers[0] = NOTIFY_RETRY;
	s1.retry_after[0] = 30;
	s1.n_answers = 1;
	enqueue(ob, ALERT_DRIFT, "a", "a1", "slow");
	settle();
	ck_assert_str_eq(rec.lines[0], "retrying a1 slow");
	ck_assert_int_eq(rec.next_attempt[0] - fake_now, 30000); /* not the 1 s backoff */
	/* Another target on the held channel waits too; other channels do not. */
	enqueue(ob, ALERT_DRIFT, "b", "b1", "slow");
	enqueue(ob, ALERT_DRIFT, "b", "b2", "other");
	advance(ob, 5000);
	ck_assert_uint_eq(s1.n_log, 1);
	ck_assert_uint_eq(count_events("delivered b2 other"), 1);
	advance(ob, 24999);
	ck_assert_uint_eq(s1.n_log, 1);
	advance(ob, 1);
	ck_assert_uint_eq(s1.n_log, 3);
	ck_assert_uint_eq(count_events("delivered a1 slow"), 1);
	ck_assert_uint_eq(count_events("delivered b1 slow"), 1);
	close_ob(ob);
	channel_free(chs[0]);
	channel_free(chs[1]);
}
END_TEST

START_TEST(permanent_failure_goes_to_dead_letters_at_once)
{
	struct script s = { 0 };
	struct notify_channel *ch = channel("hook", &s);
	struct outbox_options o = options();
	struct outbox *ob = open_ok(&o, &ch, 1);
	struct outbox_stats st;
	json_t *j, *g;

	s.answers[0] = NOTIFY_FAILED;
	s.n_answers = 1;
	enqueue(ob, ALERT_DRIFT, "x", "x1", NULL);
	enqueue(ob, ALERT_DRIFT, "x", "x2", NULL);
	settle();
	ck_assert_uint_eq(rec.n, 2);
	ck_assert_str_eq(rec.lines[0], "gave-up x1 hook");
	ck_assert_ptr_nonnull(strstr(rec.reason[0], "404 no such hook"));
	ck_assert_str_eq(rec.lines[1], "delivered x2 hook");
	ck_assert_uint_eq(files_in("queue"), 0);
	j = only_file("dead");
	g = json_object_get(j, "given_up");
	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(g, "reason")),
				     "permanent failure"));
	ck_assert_int_eq(json_integer_value(json_object_get(g, "attempts")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "alert"), "id")),
			 ids[0]);
	json_decref(j);
	outbox_get_stats(ob, &st);
	ck_assert_uint_eq(st.given_up, 1);
	ck_assert_uint_eq(st.delivered, 1);
	close_ob(ob);
	channel_free(ch);
}
END_TEST

START_TEST(max_age_gives_up_and_lets_the_next_one_through)
{
	struct script s = { 0 };
	struct notify_channel *ch = channel("hook", &s);
	struct outbox_options o = options();
	struct outbox *ob;

	s.fallback = NOTIFY_RETRY;
	ob = open_ok(&o, &ch, 1);
	enqueue(ob, ALERT_DRIFT, "x", "x1", NULL);
	settle();
	advance(ob, 30000);
	enqueue(ob, ALERT_DRIFT, "x", "x2", NULL);
	/* Retries every 5 s (the cap) until x1 is 60 s old. */
	for (int i = 0; i < 5; i++)
		advance(ob, 5000);
	ck_assert_uint_eq(count_events("gave-up"), 0);
	s.fallback = NOTIFY_DELIVERED;
	s.n_answers = s.next_answer = 0;
	s.answers[0] = NOTIFY_RETRY;
	s.n_answers = 1;
	advance(ob, 5000); /* x1 is 60 s old: given up without another attempt */
	ck_assert_uint_eq(count_events("gave-up x1 hook"), 1);
	ck_assert_ptr_nonnull(strstr(rec.reason[rec.n - 2], "max age of 60 s"));
	ck_assert_ptr_nonnull(strstr(rec.reason[rec.n - 2], "last answer: HTTP 503 busy"));
	/* x2 (30 s old) is tried at once: the scripted RETRY, then delivered. */
	ck_assert_str_eq(rec.lines[rec.n - 1], "retrying x2 hook");
	advance(ob, 1000);
	ck_assert_str_eq(rec.lines[rec.n - 1], "delivered x2 hook");
	ck_assert_uint_eq(files_in("dead"), 1);
	ck_assert_uint_eq(files_in("queue"), 0);
	close_ob(ob);
	channel_free(ch);
}
END_TEST

START_TEST(a_new_process_picks_up_in_order)
{
	struct script s = { 0 };
	struct notify_channel *ch = channel("hook", &s);
	struct outbox_options o = options();
	struct outbox *ob, *again;
	struct error err;

	o.concurrency = 1;
	ob = open_ok(&o, &ch, 1);

	/* A second process on the same spool is refused. */
	ck_assert_int_eq(outbox_open(dir, &o, &env, &ch, 1, &again, &err), -EBUSY);
	ck_assert_ptr_nonnull(strstr(err.text, "in use"));

	for (int i = 1; i <= 5; i++) {
		char m[8];
		snprintf(m, sizeof(m), "x%d", i);
		enqueue(ob, ALERT_DRIFT, "x", m, NULL);
		snprintf(m, sizeof(m), "y%d", i);
		enqueue(ob, ALERT_DRIFT, "y", m, NULL);
	}
	/* Stop with one delivery in flight and none done. */
	s.hold = true;
	settle();
	ck_assert_uint_eq(s.n_held, 1);
	close_ob(ob);
	/* The channel outlives the outbox and answers late: nothing happens
	 * (ASan watches), and the entry stays spooled for the next process. */
	release_held(&s, NOTIFY_DELIVERED);
	settle();
	ck_assert_uint_eq(count_events("delivered"), 0);
	ck_assert_uint_eq(files_in("queue"), 10);

	s.hold = false;
	s.n_log = 0;
	ob = open_ok(&o, &ch, 1);
	/* Sequence numbers continue after the old ones. */
	enqueue(ob, ALERT_DRIFT, "x", "x6", NULL);
	settle();
	/* x1, in flight at the close, is delivered again (at least once). */
	ck_assert_uint_eq(count_events("delivered"), 11);
	{
		const char *wx[] = { "x/x1", "x/x2", "x/x3", "x/x4", "x/x5", "x/x6" };
		const char *wy[] = { "y/y1", "y/y2", "y/y3", "y/y4", "y/y5" };
		size_t kx = 0, ky = 0;
		for (size_t i = 0; i < s.n_log; i++) {
			if (s.log[i][0] == 'x')
				ck_assert_str_eq(s.log[i], wx[kx++]);
			else
				ck_assert_str_eq(s.log[i], wy[ky++]);
		}
		ck_assert_uint_eq(kx, 6);
		ck_assert_uint_eq(ky, 5);
	}
	ck_assert_uint_eq(files_in("queue"), 0);
	close_ob(ob);
	channel_free(ch);
}
END_TEST

START_TEST(close_finishes_the_removal_of_delivered_entries)
{
	struct script s = { 0 };
	struct notify_channel *ch = channel("hook", &s);
	struct outbox_options o = options();
	struct outbox *ob = open_ok(&o, &ch, 1);
	struct outbox_stats st;

	for (int i = 0; i < 200; i++)
		enqueue(ob, ALERT_DRIFT, i % 2 ? "x" : "y", "m", NULL);
	/* Stop part-way, whatever the I/O thread is doing. */
	for (int i = 0; i < 40; i++)
		ck_assert_int_ge(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	outbox_get_stats(ob, &st);
	ck_assert_uint_gt(st.delivered, 0);
	ck_assert_uint_lt(st.delivered, 200);
	/* Delivered = reported, or removal still pending; the rest are spooled. */
	ck_assert_uint_eq(st.delivered, count_events("delivered") + st.removing);
	ck_assert_uint_eq(st.entries, 200 - count_events("delivered"));
	close_ob(ob);
	ck_assert_uint_eq(files_in("queue"), 200 - st.delivered);
	channel_free(ch);
}
END_TEST

START_TEST(concurrency_is_limited_per_channel)
{
	struct script s1 = { 0 }, s2 = { 0 };
	struct notify_channel *chs[2] = { channel("a", &s1), channel("b", &s2) };
	struct outbox_options o = options();
	struct outbox *ob;

	o.concurrency = 3;
	ob = open_ok(&o, chs, 2);
	s1.hold = s2.hold = true;
	for (int i = 0; i < 10; i++) {
		char t[8];
		snprintf(t, sizeof(t), "t%d", i);
		enqueue(ob, ALERT_DRIFT, t, "m", NULL);
	}
	settle();
	ck_assert_uint_eq(s1.n_held, 3);
	ck_assert_uint_eq(s2.n_held, 3);
	release_held(&s1, NOTIFY_DELIVERED);
	settle();
	ck_assert_uint_eq(s1.n_held, 3);
	s1.hold = s2.hold = false;
	release_held(&s1, NOTIFY_DELIVERED);
	release_held(&s2, NOTIFY_DELIVERED);
	settle();
	ck_assert_uint_eq(count_events("delivered"), 20);
	ck_assert_uint_eq(s1.max_in_flight, 3);
	ck_assert_uint_eq(s2.max_in_flight, 3);
	close_ob(ob);
	channel_free(chs[0]);
	channel_free(chs[1]);
}
END_TEST

START_TEST(the_cap_drops_the_oldest_least_important_and_says_so)
{
	struct script s = { 0 };
	struct notify_channel *ch = channel("hook", &s);
	struct outbox_options o = options();
	struct outbox *ob;
	struct outbox_stats st;

	o.max_entries = 4;
	ob = open_ok(&o, &ch, 1);
	/* Nothing delivers while the loop does not run. */
	enqueue(ob, ALERT_ERROR, "t", "err1", NULL);
	enqueue(ob, ALERT_DRIFT, "t", "info1", NULL);
	enqueue(ob, ALERT_TEST, NULL, "test1", NULL);
	enqueue(ob, ALERT_DRIFT, "t", "info2", NULL);
	ck_assert_uint_eq(rec.n, 0);
	enqueue(ob, ALERT_DRIFT, "t", "info3", NULL); /* test1 goes first */
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_str_eq(rec.lines[0], "dropped test1 hook");
	ck_assert_ptr_nonnull(strstr(rec.reason[0], "spool full"));
	enqueue(ob, ALERT_ERROR, "t", "err2", NULL); /* then the oldest info */
	ck_assert_str_eq(rec.lines[1], "dropped info1 hook");
	enqueue(ob, ALERT_TEST, NULL, "test2", NULL); /* a newcomer less important than all */
	ck_assert_str_eq(rec.lines[2], "dropped test2 hook");
	outbox_get_stats(ob, &st);
	ck_assert_uint_eq(st.entries, 4);
	ck_assert_uint_eq(st.dropped, 3);
	ck_assert_uint_eq(files_in("queue"), 4);
	settle();
	ck_assert_uint_eq(s.n_log, 4);
	ck_assert_str_eq(s.log[0], "t/err1");
	ck_assert_str_eq(s.log[1], "t/info2");
	ck_assert_str_eq(s.log[2], "t/info3");
	ck_assert_str_eq(s.log[3], "t/err2");
	close_ob(ob);

	/* The byte cap, same policy. */
	memset(&rec, 0, sizeof(rec));
	o.max_entries = 1000;
	o.max_bytes = 3000;
	ob = open_ok(&o, &ch, 1);
	for (int i = 0; i < 10; i++)
		enqueue(ob, ALERT_DRIFT, "t", "info", NULL);
	outbox_get_stats(ob, &st);
	ck_assert_uint_le(st.bytes, 3000);
	ck_assert_uint_gt(st.dropped, 0);
	ck_assert_uint_eq(st.dropped + st.entries, 10);
	ck_assert_uint_eq(count_events("dropped"), st.dropped);
	close_ob(ob);
	channel_free(ch);
}
END_TEST

static void write_file(const char *sub, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(unreadable_spool_files_are_moved_aside)
{
	struct script s = { 0 };
	struct notify_channel *ch = channel("hook", &s);
	struct outbox_options o = options();
	struct outbox *ob = open_ok(&o, &ch, 1);
	char path[256];

	enqueue(ob, ALERT_DRIFT, "x", "good", NULL);
	close_ob(ob);
	write_file("queue", "00000000000000000100.json", "{\"schemadrift_outbox\": 1, \"seq\"");
	write_file("queue", "00000000000000000101.json",
		   "{\"schemadrift_outbox\": 1, \"seq\": 7, \"channel\": \"hook\", "
		   "\"enqueued_ms\": 0, \"alert\": {}}");
	write_file("queue", "00000000000000000102.json",
		   "{\"schemadrift_outbox\": 1, \"seq\": 102, \"channel\": \"hook\", "
		   "\"enqueued_ms\": 0, \"alert\": {\"version\": 1, \"kind\": \"nonsense\"}}");
	write_file("queue", "notes.txt", "hello");
	write_file("queue", "00000000000000000103.json.tmp.AbCdEf", "{half");
	write_file("corrupt", "notes.txt", "an older one");

	ob = open_ok(&o, &ch, 1);
	ck_assert_uint_eq(count_events("corrupt"), 4);
	for (size_t i = 0; i < rec.n; i++)
		ck_assert_str_ne(rec.reason[i], "");
	ck_assert_uint_eq(files_in("corrupt"), 5); /* notes.txt kept, the new one is notes.txt.1 */
	snprintf(path, sizeof(path), "%s/corrupt/notes.txt.1", dir);
	ck_assert_int_eq(access(path, F_OK), 0);
	/* The temporary file of an unfinished enqueue is simply removed. */
	snprintf(path, sizeof(path), "%s/queue/00000000000000000103.json.tmp.AbCdEf", dir);
	ck_assert_int_ne(access(path, F_OK), 0);
	settle();
	ck_assert_uint_eq(count_events("delivered good"), 1);

	/* Damaged after it was read at open: caught when it is sent. */
	s.hold = true;
	enqueue(ob, ALERT_DRIFT, "y", "y1", NULL);
	enqueue(ob, ALERT_DRIFT, "y", "y2", NULL);
	settle();
	ck_assert_uint_eq(s.n_held, 1);
	{
		DIR *d;
		struct dirent *de;
		char last[256] = "";
		snprintf(path, sizeof(path), "%s/queue", dir);
		d = opendir(path);
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && strcmp(de->d_name, last) > 0)
				snprintf(last, sizeof(last), "%s", de->d_name);
		closedir(d);
		write_file("queue", last, "garbage");
	}
	s.hold = false;
	release_held(&s, NOTIFY_DELIVERED);
	settle();
	ck_assert_uint_eq(count_events("delivered y1"), 1);
	ck_assert_uint_eq(count_events("corrupt"), 5);
	ck_assert_uint_eq(files_in("queue"), 0);
	close_ob(ob);
	channel_free(ch);
}
END_TEST

START_TEST(entries_for_a_removed_channel_are_reported_and_expire)
{
	struct script s1 = { 0 }, s2 = { 0 };
	struct notify_channel *chs[2] = { channel("kept", &s1), channel("gone", &s2) };
	struct outbox_options o = options();
	struct outbox *ob = open_ok(&o, chs, 2);
	struct outbox_stats st;

	enqueue(ob, ALERT_DRIFT, "x", "x1", NULL);
	enqueue(ob, ALERT_DRIFT, "x", "x2", "gone");
	close_ob(ob);

	ob = open_ok(&o, chs, 1);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_str_eq(rec.lines[0], "unroutable - gone");
	ck_assert_uint_eq(rec.count[0], 2);
	outbox_get_stats(ob, &st);
	ck_assert_uint_eq(st.unroutable, 2);
	settle();
	ck_assert_uint_eq(count_events("delivered"), 1);
	advance(ob, 59999);
	ck_assert_uint_eq(count_events("gave-up"), 0);
	advance(ob, 1);
	ck_assert_uint_eq(count_events("gave-up x1 gone"), 1);
	ck_assert_uint_eq(count_events("gave-up x2 gone"), 1);
	ck_assert_ptr_nonnull(strstr(rec.reason[rec.n - 1], "no notifier named 'gone'"));
	ck_assert_uint_eq(files_in("dead"), 2);
	close_ob(ob);
	channel_free(chs[0]);
	channel_free(chs[1]);
}
END_TEST

START_TEST(bad_options_are_refused)
{
	struct script s = { 0 };
	struct notify_channel *ch = channel("hook", &s);
	struct outbox_options o = options();
	struct outbox *ob;
	struct error err;

	o.backoff_factor = 0.5;
	ck_assert_int_eq(outbox_open(dir, &o, &env, &ch, 1, &ob, &err), -EINVAL);
	o = options();
	o.concurrency = 0;
	ck_assert_int_eq(outbox_open(dir, &o, &env, &ch, 1, &ob, &err), -EINVAL);
	o = options();
	ck_assert_int_eq(outbox_open("/proc/no/such/dir", &o, &env, &ch, 1, &ob, &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.text, "/proc/no/such/dir"));
	channel_free(ch);
}
END_TEST

static Suite *outbox_suite(void)
{
	Suite *s = suite_create("outbox");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, enqueue_is_on_disk_before_any_delivery);
	tcase_add_test(tc, one_entry_per_channel_and_unknown_channels_refused);
	tcase_add_test(tc, order_is_kept_per_target_and_channel_while_retrying);
	tcase_add_test(tc, backoff_is_exponential_capped_and_jittered);
	tcase_add_test(tc, retry_after_holds_the_channel);
	tcase_add_test(tc, permanent_failure_goes_to_dead_letters_at_once);
	tcase_add_test(tc, max_age_gives_up_and_lets_the_next_one_through);
	tcase_add_test(tc, a_new_process_picks_up_in_order);
	tcase_add_test(tc, close_finishes_the_removal_of_delivered_entries);
	tcase_add_test(tc, concurrency_is_limited_per_channel);
	tcase_add_test(tc, the_cap_drops_the_oldest_least_important_and_says_so);
	tcase_add_test(tc, unreadable_spool_files_are_moved_aside);
	tcase_add_test(tc, entries_for_a_removed_channel_are_reported_and_expire);
	tcase_add_test(tc, bad_options_are_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(outbox_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
