/* Durable alert outbox: spool files, ordered per (target, channel) queues, retries on a loop. */
#include "outbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "fileio.h"
#include "worker.h"

#define ENTRY_VERSION 1
#define SEQ_DIGITS 20 /* "%020" PRIu64 ".json": names sort like their numbers */

struct queue;

struct entry {
	struct entry *prev, *next; /* in its queue, by seq */
	struct queue *q;
	uint64_t seq;
	int64_t enqueued_ms;
	int64_t next_ms; /* earliest next attempt */
	unsigned attempts;
	size_t bytes;
	int cls; /* drop class: lower goes first */
	bool in_flight;
	bool removing; /* delivered; its file is being removed, the queue waits */
	struct send *send;
	char *path;
	char *alert_id;
	char *last_detail; /* the channel's last answer, for the dead-letter record */
};

/* One (target, channel) pair: only its head may be in flight. */
struct queue {
	struct chan *ch;
	char *target;
	struct entry *head, *tail;
};

struct chan {
	char *name;
	struct notify_channel *nc; /* NULL: named by spool entries, not configured */
	unsigned in_flight;
	int64_t paused_until; /* Retry-After holds the whole channel */
	struct queue **queues;
	size_t n_queues, cap_queues;
	size_t rr; /* round-robin start among the queues */
};

/* One delivery in flight: the arg of the channel's done callback. */
struct send {
	struct outbox *ob; /* NULL once orphaned by outbox_close() */
	struct entry *e;
	struct alert *a;
	struct send *prev, *next; /* in `orphans` */
};

/*
 * Sends still in flight when their outbox is closed.  Their channel may yet
 * call back (a reload that closes the outbox but keeps the channels a while,
 * or reopens it with them): the callback must then find valid memory, so
 * the send stays allocated until it does.  A channel freed without calling
 * back (notify.h) leaves its orphans here, reachable, a few bytes each.
 * Outboxes on several threads' loops could close at once: hence the lock.
 */
static struct send *orphans;
static pthread_mutex_t orphans_mu = PTHREAD_MUTEX_INITIALIZER;

static void orphan_add(struct send *s)
{
	pthread_mutex_lock(&orphans_mu);
	s->ob = NULL;
	s->e = NULL;
	s->prev = NULL;
	s->next = orphans;
	if (orphans)
		orphans->prev = s;
	orphans = s;
	pthread_mutex_unlock(&orphans_mu);
}

static void orphan_remove(struct send *s)
{
	pthread_mutex_lock(&orphans_mu);
	if (s->prev)
		s->prev->next = s->next;
	else
		orphans = s->next;
	if (s->next)
		s->next->prev = s->prev;
	pthread_mutex_unlock(&orphans_mu);
}

struct outbox {
	char *dir, *qdir, *deaddir, *corruptdir;
	int lock_fd;
	struct outbox_options o;
	struct notify_env *env;
	struct event *timer, *kick;
	struct worker *io; /* unlinks of delivered entries, off the loop */
	struct unlink_pending *unlinks;
	size_t n_unlinks;
	struct chan **chans; /* queues point at their chan: never moved */
	size_t n_chans, n_configured;
	size_t entries, bytes, in_flight;
	uint64_t next_seq;
	uint64_t rng;
	bool pumping, pump_again; /* a kick while pumping runs the pump once more */
	struct outbox_stats st;
};

void outbox_options_init(struct outbox_options *o)
{
	memset(o, 0, sizeof(*o));
	o->backoff_base_ms = 5000;
	o->backoff_factor = 2.0;
	o->backoff_cap_ms = 10 * 60 * 1000;
	o->jitter = 0.2;
	o->max_age_ms = 24 * 3600 * 1000LL;
	o->max_entries = 10000;
	o->max_bytes = 64 * 1024 * 1024;
	o->concurrency = 4;
}

static int64_t now_ms(const struct outbox *ob)
{
	struct timespec ts;

	if (ob->o.now)
		return ob->o.now(ob->o.now_arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: jitter needs spread, not secrecy. */
static double rand_unit(struct outbox *ob)
{
	uint64_t x = ob->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ob->rng = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / (double)(1ULL << 53);
}

static int64_t backoff_ms(struct outbox *ob, unsigned attempt)
{
	double d = (double)ob->o.backoff_base_ms;

	for (unsigned i = 1; i < attempt && d < (double)ob->o.backoff_cap_ms; i++)
		d *= ob->o.backoff_factor;
	if (d > (double)ob->o.backoff_cap_ms)
		d = (double)ob->o.backoff_cap_ms;
	d *= 1.0 - ob->o.jitter * rand_unit(ob);
	return (int64_t)(d + 0.5); /* d >= 0: rounds without libm */
}

/* Test alerts go first, then info drifts and checks, then warnings and
 * recoveries (dropping one would leave an incident open), errors and
 * breaking drifts last. */
static int drop_class(const struct alert *a)
{
	if (a->kind == ALERT_TEST)
		return 0;
	if (a->kind == ALERT_ERROR || a->severity == DIFF_BREAKING)
		return 3;
	if (a->kind == ALERT_RECOVERED || a->severity == DIFF_WARNING)
		return 2;
	return 1;
}

static void emit(struct outbox *ob, enum outbox_event_kind kind, const struct entry *e,
		 const char *path, const struct notify_result *res, const char *reason)
{
	struct outbox_event ev = {
		.kind = kind,
		.alert_id = e ? e->alert_id : NULL,
		.channel = e ? e->q->ch->name : NULL,
		.target = e && e->q->target[0] ? e->q->target : NULL,
		.path = path ? path : e ? e->path : NULL,
		.attempts = e ? e->attempts : 0,
		.next_attempt_ms = e ? e->next_ms : 0,
		.result = res,
		.reason = reason,
	};

	if (ob->o.on_event)
		ob->o.on_event(&ev, ob->o.arg);
}

/* ---- queues ---- */

static struct chan *chan_find(struct outbox *ob, const char *name)
{
	for (size_t i = 0; i < ob->n_chans; i++)
		if (strcmp(ob->chans[i]->name, name) == 0)
			return ob->chans[i];
	return NULL;
}

static struct queue *queue_get(struct chan *ch, const char *target)
{
	struct queue *q;

	for (size_t i = 0; i < ch->n_queues; i++)
		if (strcmp(ch->queues[i]->target, target) == 0)
			return ch->queues[i];
	if (ch->n_queues == ch->cap_queues) {
		size_t cap = ch->cap_queues ? 2 * ch->cap_queues : 8;
		struct queue **p = realloc(ch->queues, cap * sizeof(*p));
		if (!p)
			return NULL;
		ch->queues = p;
		ch->cap_queues = cap;
	}
	q = calloc(1, sizeof(*q));
	if (!q || !(q->target = strdup(target))) {
		free(q);
		return NULL;
	}
	q->ch = ch;
	ch->queues[ch->n_queues++] = q;
	return q;
}

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	free(e->path);
	free(e->alert_id);
	free(e->last_detail);
	free(e);
}

static void queue_append(struct outbox *ob, struct queue *q, struct entry *e)
{
	e->q = q;
	e->prev = q->tail;
	e->next = NULL;
	if (q->tail)
		q->tail->next = e;
	else
		q->head = e;
	q->tail = e;
	ob->entries++;
	ob->bytes += e->bytes;
}

/* Takes e out of its queue and the counts; e->q stays valid for events.  Empty
 * queues are freed later by compact(), so iterations over them stay valid. */
static void entry_detach(struct outbox *ob, struct entry *e)
{
	struct queue *q = e->q;

	if (e->prev)
		e->prev->next = e->next;
	else
		q->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		q->tail = e->prev;
	e->prev = e->next = NULL;
	ob->entries--;
	ob->bytes -= e->bytes;
}

static void compact(struct chan *ch)
{
	size_t o = 0;

	for (size_t i = 0; i < ch->n_queues; i++) {
		struct queue *q = ch->queues[i];
		if (q->head) {
			ch->queues[o++] = q;
		} else {
			free(q->target);
			free(q);
		}
	}
	ch->n_queues = o;
	if (ch->rr >= o)
		ch->rr = 0;
}

static void schedule(struct outbox *ob)
{
	if (ob->pumping)
		ob->pump_again = true;
	else if (ob->kick)
		event_active(ob->kick, 0, 0);
}

/* ---- files ---- */

static char *seq_path(const char *dir, uint64_t seq)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%0*" PRIu64 ".json", dir, SEQ_DIGITS, seq) < 0)
		return NULL;
	return p;
}

/* "NNN.json" with SEQ_DIGITS digits -> seq; false for anything else. */
static bool parse_seq_name(const char *name, uint64_t *ret)
{
	uint64_t v = 0;

	if (strlen(name) != SEQ_DIGITS + 5 || strcmp(name + SEQ_DIGITS, ".json") != 0)
		return false;
	for (int i = 0; i < SEQ_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	*ret = v;
	return true;
}

/* Moves path into dir under its own name, or NAME.N if that is taken. */
static int move_aside(const char *path, const char *dir, char **ret_dest)
{
	const char *base = strrchr(path, '/');
	char *dest = NULL;
	struct stat sb;

	base = base ? base + 1 : path;
	for (unsigned n = 0; n < 1000; n++) {
		free(dest);
		if ((n ? asprintf(&dest, "%s/%s.%u", dir, base, n)
		       : asprintf(&dest, "%s/%s", dir, base)) < 0)
			return -ENOMEM;
		if (lstat(dest, &sb) < 0 && errno == ENOENT)
			break;
	}
	if (rename(path, dest) < 0) {
		int e = -errno;
		free(dest);
		return e;
	}
	*ret_dest = dest;
	return 0;
}

static void report_corrupt(struct outbox *ob, const char *path, const char *why)
{
	char reason[1200];
	char *dest = NULL;
	int r = move_aside(path, ob->corruptdir, &dest);

	ob->st.corrupt++;
	if (r < 0) {
		/* Cannot move it: delete it rather than fail on it forever. */
		snprintf(reason, sizeof(reason), "%s; cannot move it to %s (%s), removed", why,
			 ob->corruptdir, strerror(-r));
		unlink(path);
		emit(ob, OUTBOX_CORRUPT, NULL, path, NULL, reason);
		return;
	}
	emit(ob, OUTBOX_CORRUPT, NULL, dest, NULL, why);
	free(dest);
}

/* Reads an entry file; *ret_alert (optional) is the parsed alert. */
static int read_entry(const char *path, uint64_t want_seq, json_t **ret_json,
		      struct alert **ret_alert, struct error *err)
{
	char *text = NULL;
	size_t len;
	int r = fileio_read_state(path, &text, &len, err);

	if (r < 0)
		return r;
	r = outbox_entry_parse(text, len, path, want_seq, ret_json, ret_alert, err);
	free(text);
	return r;
}

int outbox_entry_parse(const char *text, size_t len, const char *path, uint64_t want_seq,
		       json_t **ret_json, struct alert **ret_alert, struct error *err)
{
	json_error_t jerr;
	json_t *j, *v;
	struct alert *a = NULL;
	int r;

	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return error_set(err, -EBADMSG, "%s: line %d column %d: %s", path, jerr.line,
				 jerr.column, jerr.text);
	v = json_object_get(j, "schemadrift_outbox");
	if (!json_is_integer(v) || json_integer_value(v) != ENTRY_VERSION) {
		r = error_set(err, -EBADMSG, "%s: not an outbox entry of version %d", path,
			      ENTRY_VERSION);
		goto fail;
	}
	v = json_object_get(j, "seq");
	if (!json_is_integer(v) || (uint64_t)json_integer_value(v) != want_seq) {
		r = error_set(err, -EBADMSG, "%s: \"seq\" does not match the file name", path);
		goto fail;
	}
	v = json_object_get(j, "channel");
	if (!json_is_string(v) || !json_string_length(v)) {
		r = error_set(err, -EBADMSG, "%s: bad \"channel\"", path);
		goto fail;
	}
	v = json_object_get(j, "enqueued_ms");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		r = error_set(err, -EBADMSG, "%s: bad \"enqueued_ms\"", path);
		goto fail;
	}
	v = json_object_get(j, "alert");
	if (!json_is_object(v)) {
		r = error_set(err, -EBADMSG, "%s: no \"alert\"", path);
		goto fail;
	}
	r = alert_from_json(v, &a, err);
	if (r < 0) {
		error_prefix(err, "%s: alert", path);
		goto fail;
	}
	if (!a->id || !*a->id) {
		r = error_set(err, -EBADMSG, "%s: the alert has no id", path);
		goto fail;
	}
	if (ret_alert)
		*ret_alert = a;
	else
		alert_free(a);
	*ret_json = j;
	return 0;
fail:
	alert_free(a);
	json_decref(j);
	return r;
}

/* Writes the entry, with why it was given up, to dead/ and removes it from queue/. */
static int bury(struct outbox *ob, struct entry *e, const char *reason, char **ret_dest)
{
	char *dest = seq_path(ob->deaddir, e->seq);
	struct fileio_atomic f;
	json_t *j = NULL, *why;
	struct error err;
	int r;

	if (!dest)
		return -ENOMEM;
	r = read_entry(e->path, e->seq, &j, NULL, &err);
	if (r < 0)
		goto raw;
	why = json_pack("{s:I, s:s, s:I, s:s?}", "at_ms", (json_int_t)now_ms(ob), "reason",
			reason, "attempts", (json_int_t)e->attempts, "last_answer",
			e->last_detail);
	if (!why || json_object_set_new(j, "given_up", why) < 0)
		goto raw;
	if (fileio_atomic_open(&f, dest, &err) < 0)
		goto raw;
	if (json_dumpf(j, f.stream, JSON_COMPACT) < 0 || fputc('\n', f.stream) == EOF) {
		fileio_atomic_abort(&f);
		goto raw;
	}
	if (fileio_atomic_commit(&f, &err) < 0)
		goto raw;
	json_decref(j);
	unlink(e->path);
	*ret_dest = dest;
	return 0;
raw:
	/* Out of space or unreadable: keep the entry as it is, without the reason. */
	json_decref(j);
	if (rename(e->path, dest) < 0) {
		r = -errno;
		free(dest);
		unlink(e->path);
		return r;
	}
	*ret_dest = dest;
	return 0;
}

/* ---- delivery ---- */

static void give_up(struct outbox *ob, struct entry *e, const struct notify_result *res,
		    const char *reason)
{
	char *dest = NULL;
	char text[1024];
	int r = bury(ob, e, reason, &dest);

	if (r < 0)
		snprintf(text, sizeof(text), "%s (cannot move it to %s: %s; removed)", reason,
			 ob->deaddir, strerror(-r));
	entry_detach(ob, e);
	ob->st.given_up++;
	if (r == 0)
		ob->st.dead++;
	emit(ob, OUTBOX_GAVE_UP, e, dest, res, r < 0 ? text : reason);
	free(dest);
	entry_free(e);
}

static void max_age_text(const struct outbox *ob, const struct entry *e, char *buf,
			 size_t size)
{
	snprintf(buf, size, "max age of %" PRId64 " s reached after %u attempt%s%s%s",
		 ob->o.max_age_ms / 1000, e->attempts, e->attempts == 1 ? "" : "s",
		 e->last_detail ? "; last answer: " : "", e->last_detail ? e->last_detail : "");
}

/*
 * Removing a delivered entry.  unlink(2) on a busy ext4 journal takes
 * milliseconds, once per delivery: a worker thread does it, in delivery
 * order (one thread).  A crash before it gets there redelivers what was
 * delivered (at least once).  Paths are unique to their entry for the life
 * of the process (sequence numbers only grow), so nothing races on a name.
 *
 * The outbox keeps its own copy of every path not yet removed (`struct
 * unlink_pending`), so outbox_close() can finish the job itself whatever
 * state the worker is in; a job only ever touches its own memory off the loop.
 */
struct unlink_pending {
	struct unlink_pending *prev, *next;
	char path[];
};

struct unlink_job {
	struct outbox *ob;
	struct entry *e;               /* these two are touched on the loop's thread only */
	struct unlink_pending *mirror;
	char path[];
};

static void unlink_run(void *arg)
{
	struct unlink_job *j = arg;

	unlink(j->path);
}

static void pending_unlist(struct outbox *ob, struct unlink_pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		ob->unlinks = p->next;
	if (p->next)
		p->next->prev = p->prev;
	free(p);
	ob->n_unlinks--;
}

/* The file is gone: the entry goes, is reported, and the next of its queue may start. */
static void finish_delivered(struct outbox *ob, struct entry *e)
{
	struct notify_result res = { .status = NOTIFY_DELIVERED };

	snprintf(res.detail, sizeof(res.detail), "%s", e->last_detail ? e->last_detail : "");
	entry_detach(ob, e);
	emit(ob, OUTBOX_DELIVERED, e, NULL, &res, NULL);
	entry_free(e);
	schedule(ob);
}

static void unlink_done(void *arg)
{
	struct unlink_job *j = arg;
	struct outbox *ob = j->ob;

	pending_unlist(ob, j->mirror);
	finish_delivered(ob, j->e);
	free(j);
}

/*
 * The entry stays at the head of its queue until its file is gone, so the
 * next one of the queue is not sent before: after a crash, at most the last
 * delivered entry of a queue is delivered again, never it and its successors.
 */
static void remove_delivered(struct outbox *ob, struct entry *e)
{
	size_t len = strlen(e->path) + 1;
	struct unlink_pending *p = malloc(sizeof(*p) + len);
	struct unlink_job *j = malloc(sizeof(*j) + len);

	if (p && j) {
		memcpy(p->path, e->path, len);
		memcpy(j->path, e->path, len);
		j->ob = ob;
		j->e = e;
		j->mirror = p;
	}
	if (!p || !j || worker_submit(ob->io, unlink_run, unlink_done, free, j) < 0) {
		free(p);
		free(j);
		unlink(e->path);
		finish_delivered(ob, e);
		return;
	}
	e->removing = true;
	p->prev = NULL;
	p->next = ob->unlinks;
	if (ob->unlinks)
		ob->unlinks->prev = p;
	ob->unlinks = p;
	ob->n_unlinks++;
}

static void on_sent(struct notify_channel *nc, const struct notify_result *res, void *arg)
{
	struct send *s = arg;
	struct outbox *ob = s->ob;
	struct entry *e = s->e;
	struct chan *ch;
	char reason[1024];

	(void)nc;
	if (!ob) { /* the outbox is gone; the entry is still in the spool for the next one */
		orphan_remove(s);
		alert_free(s->a);
		free(s);
		return;
	}
	alert_free(s->a);
	free(s);
	e->send = NULL;
	e->in_flight = false;
	ch = e->q->ch;
	ch->in_flight--;
	ob->in_flight--;
	free(e->last_detail);
	e->last_detail = res->detail[0] ? strndup(res->detail, sizeof(res->detail)) : NULL;

	switch (res->status) {
	case NOTIFY_DELIVERED:
		/* No directory fsync: losing this unlink in a crash only repeats a
		 * delivery, which the idempotency key absorbs. */
		ob->st.delivered++;
		remove_delivered(ob, e); /* OUTBOX_DELIVERED once the file is gone */
		break;
	case NOTIFY_FAILED:
		snprintf(reason, sizeof(reason), "permanent failure: %s",
			 res->detail[0] ? res->detail : "(no detail)");
		give_up(ob, e, res, reason);
		break;
	case NOTIFY_RETRY:
	default: {
		int64_t now = now_ms(ob), delay = backoff_ms(ob, e->attempts);

		if (res->retry_after_s > 0) {
			int64_t ra = (int64_t)res->retry_after_s * 1000;
			if (delay < ra)
				delay = ra;
			/* Retry-After speaks for the endpoint, not for this one entry. */
			if (ch->paused_until < now + ra)
				ch->paused_until = now + ra;
		}
		e->next_ms = now + delay;
		ob->st.retries++;
		emit(ob, OUTBOX_RETRYING, e, NULL, res, NULL);
		break;
	}
	}
	schedule(ob);
}

/* Starts delivering e; false when e was moved aside instead (unreadable). */
static bool dispatch(struct outbox *ob, struct entry *e)
{
	struct chan *ch = e->q->ch;
	struct error err;
	struct send *s;
	json_t *j = NULL;
	struct alert *a = NULL;
	int r = read_entry(e->path, e->seq, &j, &a, &err);

	if (r < 0) {
		entry_detach(ob, e);
		report_corrupt(ob, e->path, err.text);
		entry_free(e);
		return false;
	}
	json_decref(j);
	s = calloc(1, sizeof(*s));
	if (!s) {
		alert_free(a);
		e->next_ms = now_ms(ob) + 1000;
		return true;
	}
	s->ob = ob;
	s->e = e;
	s->a = a;
	e->send = s;
	e->in_flight = true;
	e->attempts++;
	ch->in_flight++;
	ob->in_flight++;
	r = ch->nc->backend->send(ch->nc, a, on_sent, s);
	if (r < 0) {
		/* Could not even start: the same as a retryable failure. */
		struct notify_result res = { .status = NOTIFY_RETRY };
		snprintf(res.detail, sizeof(res.detail), "cannot start the delivery: %s",
			 strerror(-r));
		on_sent(ch->nc, &res, s);
	}
	return true;
}

static void pump(struct outbox *ob)
{
	int64_t now = now_ms(ob), earliest = INT64_MAX;
	char reason[1024];

	ob->pumping = true;
	ob->pump_again = false;
	for (size_t c = 0; c < ob->n_chans; c++) {
		struct chan *ch = ob->chans[c];
		size_t n = ch->n_queues;

		for (size_t k = 0; k < n; k++) {
			struct queue *q = ch->queues[(ch->rr + k) % n];
			struct entry *e;

			while ((e = q->head) && !e->in_flight && !e->removing) {
				int64_t deadline = e->enqueued_ms + ob->o.max_age_ms;
				int64_t due = e->next_ms > ch->paused_until ? e->next_ms
									    : ch->paused_until;

				if (now >= deadline) {
					if (ch->nc)
						max_age_text(ob, e, reason, sizeof(reason));
					else
						snprintf(reason, sizeof(reason),
							 "max age reached; no notifier named '%s' "
							 "is configured", ch->name);
					give_up(ob, e, NULL, reason);
					continue;
				}
				if (!ch->nc)
					due = deadline;
				if (due > now) {
					int64_t t = due < deadline ? due : deadline;
					if (t < earliest)
						earliest = t;
					break;
				}
				if (ch->in_flight >= ob->o.concurrency)
					break; /* a completion will pump again */
				if (dispatch(ob, e)) {
					/* Not in flight: it could not even start. */
					if (!e->in_flight && e->next_ms < earliest)
						earliest = e->next_ms;
					break;
				}
			}
		}
		if (n)
			ch->rr = (ch->rr + 1) % n;
		compact(ch);
	}
	ob->pumping = false;
	if (ob->pump_again)
		event_active(ob->kick, 0, 0);
	if (earliest != INT64_MAX) {
		int64_t d = earliest - now;
		struct timeval tv;

		if (d < 0)
			d = 0;
		if (d > 3600 * 1000)
			d = 3600 * 1000; /* re-check hourly: the wall clock may jump */
		tv.tv_sec = d / 1000;
		tv.tv_usec = (d % 1000) * 1000;
		evtimer_add(ob->timer, &tv);
	} else {
		evtimer_del(ob->timer);
	}
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

void outbox_kick(struct outbox *ob)
{
	schedule(ob);
}

/* ---- the cap ---- */

static struct entry *oldest_lowest(struct outbox *ob)
{
	struct entry *best = NULL;

	for (size_t c = 0; c < ob->n_chans; c++)
		for (size_t i = 0; i < ob->chans[c]->n_queues; i++)
			for (struct entry *e = ob->chans[c]->queues[i]->head; e; e = e->next) {
				if (e->in_flight || e->removing)
					continue;
				if (!best || e->cls < best->cls ||
				    (e->cls == best->cls && e->seq < best->seq))
					best = e;
			}
	return best;
}

/* Makes room for an entry of `bytes` and class cls; false: drop the newcomer. */
static bool make_room(struct outbox *ob, size_t bytes, int cls, char *why, size_t why_size)
{
	if (bytes > ob->o.max_bytes) {
		snprintf(why, why_size, "spool full: the entry alone (%zu bytes) exceeds "
			 "the cap of %zu bytes", bytes, ob->o.max_bytes);
		return false;
	}
	while (ob->entries + 1 > ob->o.max_entries || ob->bytes + bytes > ob->o.max_bytes) {
		struct entry *v = oldest_lowest(ob);

		snprintf(why, why_size, "spool full (%zu entries, %zu bytes; caps %zu and %zu)",
			 ob->entries, ob->bytes, ob->o.max_entries, ob->o.max_bytes);
		if (!v || v->cls > cls)
			return false;
		unlink(v->path);
		entry_detach(ob, v);
		ob->st.dropped++;
		emit(ob, OUTBOX_DROPPED, v, NULL, NULL, why);
		entry_free(v);
	}
	return true;
}

/* ---- enqueue ---- */

static int spool_one(struct outbox *ob, struct chan *ch, const struct alert *a, json_t *aj,
		     int64_t now, struct error *err)
{
	uint64_t seq = ob->next_seq++;
	struct entry *e = NULL;
	struct fileio_atomic f;
	struct queue *q;
	char why[256];
	char *text;
	size_t len;
	json_t *j;
	int r;

	j = json_pack("{s:i, s:I, s:s, s:I, s:O}", "schemadrift_outbox", ENTRY_VERSION, "seq",
		      (json_int_t)seq, "channel", ch->name, "enqueued_ms", (json_int_t)now,
		      "alert", aj);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		return error_set(err, -ENOMEM, "out of memory");
	len = strlen(text) + 1;

	if (!make_room(ob, len, drop_class(a), why, sizeof(why))) {
		struct entry tmp = { .alert_id = a->id, .seq = seq };
		struct queue tq = { .ch = ch, .target = a->target ? a->target : "" };

		tmp.q = &tq;
		ob->st.dropped++;
		emit(ob, OUTBOX_DROPPED, &tmp, NULL, NULL, why);
		free(text);
		return 0;
	}
	e = calloc(1, sizeof(*e));
	q = queue_get(ch, a->target ? a->target : ""); /* test alerts may have none */
	if (!e || !q || !(e->path = seq_path(ob->qdir, seq)) || !(e->alert_id = strdup(a->id))) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	e->seq = seq;
	e->enqueued_ms = e->next_ms = now;
	e->bytes = len;
	e->cls = drop_class(a);
	r = fileio_atomic_open(&f, e->path, err);
	if (r < 0)
		goto fail;
	if (fputs(text, f.stream) == EOF || fputc('\n', f.stream) == EOF) {
		fileio_atomic_abort(&f);
		r = error_set(err, -EIO, "%s: cannot write", e->path);
		goto fail;
	}
	r = fileio_atomic_commit(&f, err);
	if (r < 0)
		goto fail;
	free(text);
	queue_append(ob, q, e);
	return 0;
fail:
	free(text);
	entry_free(e);
	return r;
}

int outbox_enqueue(struct outbox *ob, const struct alert *a, const char *const *channels,
		   size_t n, struct error *err)
{
	size_t count = n ? n : ob->n_configured;
	struct chan **targets;
	int64_t now = now_ms(ob);
	json_t *aj;
	int r = 0;

	if (!a->id || !*a->id)
		return error_set(err, -EINVAL, "the alert has no id");
	targets = calloc(count ? count : 1, sizeof(*targets));
	if (!targets)
		return error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < count; i++) {
		targets[i] = n ? chan_find(ob, channels[i]) : ob->chans[i];
		if (!targets[i] || !targets[i]->nc) {
			free(targets);
			return error_set(err, -ENOENT, "no notifier named '%s'", channels[i]);
		}
	}
	aj = alert_to_json(a);
	if (!aj) {
		free(targets);
		return error_set(err, -ENOMEM, "cannot serialise the alert");
	}
	for (size_t i = 0; i < count; i++) {
		r = spool_one(ob, targets[i], a, aj, now, err);
		if (r < 0) {
			error_prefix(err, "notifier '%s' (spooled for %zu of %zu)",
				     targets[i]->name, i, count);
			break;
		}
	}
	json_decref(aj);
	free(targets);
	schedule(ob);
	return r;
}

/* ---- open / close ---- */

struct found {
	uint64_t seq;
	char *path;
	char *channel;
	char *alert_id;
	char *target;
	int64_t enqueued_ms;
	size_t bytes;
	int cls;
};

static int cmp_found(const void *x, const void *y)
{
	const struct found *a = x, *b = y;

	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int make_dir(const char *path, struct error *err)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return error_set(err, -errno, "%s: cannot create: %s", path, strerror(errno));
	/* Never a symlink in place of a spool directory (docs/outbox.md). */
	if (lstat(path, &st) < 0)
		return error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return error_set(err, -ENOTDIR, "%s: not a directory (%s): refused", path,
				 S_ISLNK(st.st_mode) ? "a symbolic link" : "another file type");
	return 0;
}

/* The highest sequence number used in dir's file names. */
/* The highest sequence number of dir's entries; *ret_count gets how many there are. */
static uint64_t max_seq_in(const char *dir, size_t *ret_count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t max = 0, s;
	size_t n = 0;

	if (d) {
		while ((de = readdir(d)))
			if (parse_seq_name(de->d_name, &s)) {
				n++;
				if (s > max)
					max = s;
			}
		closedir(d);
	}
	*ret_count = n;
	return max;
}

static struct chan *chan_add(struct outbox *ob, const char *name, struct notify_channel *nc)
{
	struct chan **p = realloc(ob->chans, (ob->n_chans + 1) * sizeof(*p));
	struct chan *ch;

	if (!p)
		return NULL;
	ob->chans = p;
	ch = calloc(1, sizeof(*ch));
	if (!ch || !(ch->name = strdup(name))) {
		free(ch);
		return NULL;
	}
	ch->nc = nc;
	ob->chans[ob->n_chans++] = ch;
	return ch;
}

static void found_free(struct found *f)
{
	free(f->path);
	free(f->channel);
	free(f->alert_id);
	free(f->target);
}

/* Reads queue/ back: entries in seq order into their queues, the rest aside. */
static int recover(struct outbox *ob, struct error *err)
{
	struct found *fs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(ob->qdir);
	int r = 0;

	if (!d)
		return error_set(err, -errno, "%s: %s", ob->qdir, strerror(errno));
	while ((de = readdir(d))) {
		struct found f = { 0 };
		struct error e2;
		struct alert *a = NULL;
		struct stat sb;
		json_t *j = NULL;
		char *path = NULL;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (asprintf(&path, "%s/%s", ob->qdir, de->d_name) < 0) {
			r = error_set(err, -ENOMEM, "out of memory");
			break;
		}
		if (strstr(de->d_name, ".json.tmp.")) {
			/* fileio's temporary file of an enqueue that never returned. */
			unlink(path);
			free(path);
			continue;
		}
		if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			free(path);
			continue;
		}
		if (!parse_seq_name(de->d_name, &f.seq)) {
			report_corrupt(ob, path, "not an outbox entry name");
			free(path);
			continue;
		}
		if (read_entry(path, f.seq, &j, &a, &e2) < 0) {
			report_corrupt(ob, path, e2.text);
			free(path);
			continue;
		}
		f.path = path;
		f.channel = strdup(json_string_value(json_object_get(j, "channel")));
		f.alert_id = strdup(a->id);
		f.target = strdup(a->target ? a->target : "");
		f.enqueued_ms = json_integer_value(json_object_get(j, "enqueued_ms"));
		f.bytes = (size_t)sb.st_size;
		f.cls = drop_class(a);
		json_decref(j);
		alert_free(a);
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			struct found *p = realloc(fs, nc * sizeof(*p));
			if (!p) {
				found_free(&f);
				r = error_set(err, -ENOMEM, "out of memory");
				break;
			}
			fs = p;
			cap = nc;
		}
		fs[n++] = f;
		if (!f.channel || !f.alert_id || !f.target) {
			r = error_set(err, -ENOMEM, "out of memory");
			break;
		}
	}
	closedir(d);
	if (n)
		qsort(fs, n, sizeof(*fs), cmp_found);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct chan *ch = chan_find(ob, fs[i].channel);
		struct entry *e;
		struct queue *q;

		if (!ch && !(ch = chan_add(ob, fs[i].channel, NULL))) {
			r = error_set(err, -ENOMEM, "out of memory");
			break;
		}
		e = calloc(1, sizeof(*e));
		q = queue_get(ch, fs[i].target);
		if (!e || !q) {
			free(e);
			r = error_set(err, -ENOMEM, "out of memory");
			break;
		}
		e->seq = fs[i].seq;
		e->enqueued_ms = fs[i].enqueued_ms;
		e->next_ms = 0;
		e->bytes = fs[i].bytes;
		e->cls = fs[i].cls;
		e->path = fs[i].path;
		e->alert_id = fs[i].alert_id;
		fs[i].path = fs[i].alert_id = NULL;
		queue_append(ob, q, e);
		if (e->seq >= ob->next_seq)
			ob->next_seq = e->seq + 1;
	}
	for (size_t i = 0; i < n; i++)
		found_free(&fs[i]);
	free(fs);
	if (r < 0)
		return r;
	for (size_t c = ob->n_configured; c < ob->n_chans; c++) {
		struct chan *ch = ob->chans[c];
		struct outbox_event ev = { .kind = OUTBOX_UNROUTABLE, .channel = ch->name,
					   .path = ob->qdir,
					   .reason = "no notifier of this name is configured; "
						     "kept until max age" };

		for (size_t i = 0; i < ch->n_queues; i++)
			for (struct entry *e = ch->queues[i]->head; e; e = e->next)
				ev.count++;
		if (ob->o.on_event)
			ob->o.on_event(&ev, ob->o.arg);
	}
	return 0;
}

int outbox_options_from_conf(struct outbox_options *o, const struct ini_section *daemon,
			     struct error *err)
{
	static const struct {
		const char *key;
		bool duration;
		long long min, max;
	} keys[] = {
		{ "outbox_max_age", true, 1000, 365LL * 86400 * 1000 },
		{ "outbox_max_entries", false, 1, 10000000 },
		{ "outbox_max_bytes", false, 4096, 1LL << 40 },
		{ "outbox_concurrency", false, 1, 1000 },
		{ "outbox_backoff_base", true, 10, 86400 * 1000 },
		{ "outbox_backoff_cap", true, 10, 7 * 86400 * 1000 },
	};

	if (!daemon)
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct ini_kv *kv = ini_get(daemon, keys[i].key);
		long long v;
		int r;

		if (!kv)
			continue;
		r = keys[i].duration ? ini_duration_ms(kv, keys[i].min, keys[i].max, &v, err)
				     : ini_int(kv, keys[i].min, keys[i].max, &v, err);
		if (r < 0)
			return r;
		switch (i) {
		case 0:
			o->max_age_ms = v;
			break;
		case 1:
			o->max_entries = (size_t)v;
			break;
		case 2:
			o->max_bytes = (size_t)v;
			break;
		case 3:
			o->concurrency = (unsigned)v;
			break;
		case 4:
			o->backoff_base_ms = v;
			break;
		default:
			o->backoff_cap_ms = v;
			break;
		}
	}
	if (o->backoff_cap_ms < o->backoff_base_ms)
		return ini_section_error(daemon, err, -EINVAL,
					  "outbox_backoff_cap is below outbox_backoff_base");
	return 0;
}

static int check_options(const struct outbox_options *o, struct error *err)
{
	if (o->backoff_base_ms < 0 || o->backoff_cap_ms < o->backoff_base_ms ||
	    !(o->backoff_factor >= 1.0) || !(o->jitter >= 0.0 && o->jitter <= 1.0))
		return error_set(err, -EINVAL, "outbox: bad backoff settings (base %" PRId64
				 " ms, factor %g, cap %" PRId64 " ms, jitter %g)",
				 o->backoff_base_ms, o->backoff_factor, o->backoff_cap_ms,
				 o->jitter);
	if (o->max_age_ms <= 0 || !o->max_entries || !o->max_bytes || !o->concurrency)
		return error_set(err, -EINVAL, "outbox: max age, caps and concurrency must be "
				 "positive");
	return 0;
}

int outbox_open(const char *dir, const struct outbox_options *opts, struct notify_env *env,
		struct notify_channel *const *channels, size_t n_channels, struct outbox **ret,
		struct error *err)
{
	struct outbox *ob;
	char *lock_path = NULL;
	int r;

	r = check_options(opts, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_channels; i++)
		for (size_t k = 0; k < i; k++)
			if (strcmp(channels[i]->name, channels[k]->name) == 0)
				return error_set(err, -EINVAL, "outbox: two notifiers named '%s'",
						 channels[i]->name);
	ob = calloc(1, sizeof(*ob));
	if (!ob)
		return error_set(err, -ENOMEM, "out of memory");
	ob->lock_fd = -1;
	ob->o = *opts;
	ob->env = env;
	if (!(ob->dir = strdup(dir)) || asprintf(&ob->qdir, "%s/queue", dir) < 0 ||
	    asprintf(&ob->deaddir, "%s/dead", dir) < 0 ||
	    asprintf(&ob->corruptdir, "%s/corrupt", dir) < 0 ||
	    asprintf(&lock_path, "%s/lock", dir) < 0) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = make_dir(dir, err)) < 0 || (r = make_dir(ob->qdir, err)) < 0 ||
	    (r = make_dir(ob->deaddir, err)) < 0 || (r = make_dir(ob->corruptdir, err)) < 0)
		goto fail;
	ob->lock_fd = fileio_open_nofollow(lock_path, O_RDWR | O_CREAT, 0600, err);
	if (ob->lock_fd < 0) {
		r = ob->lock_fd;
		ob->lock_fd = -1;
		goto fail;
	}
	if (flock(ob->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			r = error_set(err, -EBUSY, "%s: the spool is in use by another process",
				      dir);
		else
			r = error_set(err, -errno, "%s: %s", lock_path, strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < n_channels; i++) {
		if (!chan_add(ob, channels[i]->name, channels[i])) {
			r = error_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
	}
	ob->n_configured = n_channels;
	ob->rng = opts->seed ? opts->seed
			     : (uint64_t)now_ms(ob) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
	if (!ob->rng)
		ob->rng = 1;
	ob->next_seq = max_seq_in(ob->deaddir, &ob->st.dead) + 1;
	r = recover(ob, err);
	if (r < 0)
		goto fail;
	ob->timer = evtimer_new(env->base, on_pump, ob);
	ob->kick = event_new(env->base, -1, 0, on_pump, ob);
	if (!ob->timer || !ob->kick) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	r = worker_new(env->base, 1, &ob->io, err);
	if (r < 0)
		goto fail;
	free(lock_path);
	schedule(ob);
	*ret = ob;
	return 0;
fail:
	free(lock_path);
	outbox_close(ob);
	return r;
}

void outbox_get_stats(const struct outbox *ob, struct outbox_stats *ret)
{
	*ret = ob->st;
	ret->entries = ob->entries;
	ret->bytes = ob->bytes;
	ret->in_flight = ob->in_flight;
	ret->removing = ob->n_unlinks;
	ret->unroutable = 0;
	ret->oldest_ms = 0;
	for (size_t c = 0; c < ob->n_chans; c++)
		for (size_t i = 0; i < ob->chans[c]->n_queues; i++)
			for (struct entry *e = ob->chans[c]->queues[i]->head; e; e = e->next) {
				if (c >= ob->n_configured)
					ret->unroutable++;
				if (!ret->oldest_ms || e->enqueued_ms < ret->oldest_ms)
					ret->oldest_ms = e->enqueued_ms;
			}
}

void outbox_close(struct outbox *ob)
{
	if (!ob)
		return;
	/* Whatever the worker did not get to (or is doing now), done here. */
	worker_free(ob->io);
	while (ob->unlinks) {
		unlink(ob->unlinks->path);
		pending_unlist(ob, ob->unlinks);
	}
	for (size_t c = 0; c < ob->n_chans; c++) {
		struct chan *ch = ob->chans[c];

		for (size_t i = 0; i < ch->n_queues; i++) {
			struct entry *e = ch->queues[i]->head;
			while (e) {
				struct entry *next = e->next;
				if (e->send)
					orphan_add(e->send);
				entry_free(e);
				e = next;
			}
			free(ch->queues[i]->target);
			free(ch->queues[i]);
		}
		free(ch->queues);
		free(ch->name);
		free(ch);
	}
	free(ob->chans);
	if (ob->timer)
		event_free(ob->timer);
	if (ob->kick)
		event_free(ob->kick);
	if (ob->lock_fd >= 0)
		close(ob->lock_fd); /* releases the flock */
	free(ob->dir);
	free(ob->qdir);
	free(ob->deaddir);
	free(ob->corruptdir);
	free(ob);
}
