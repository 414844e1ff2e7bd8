/* Live snapshots: non-blocking connect and catalog read driven by a libevent base. */
#include "live.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isotime.h"
#include "snapshot.h"

struct live_snapshot {
	struct event_base *base;
	PGconn *conn;
	struct event *io;    /* re-armed for whatever libpq waits on next */
	struct event *timer; /* connect deadline: PQconnectPoll does not apply connect_timeout */
	struct catalog_read *reader;
	struct live_options opts;
	live_done_fn done;
	void *arg;
	bool connected;
	bool broken; /* cancelled mid-read: never reuse */
	char where[512]; /* "host=... port=... dbname=... user=...", never the password */
};

void live_describe_dsn(const char *dsn, char *buf, size_t size)
{
	static const char *const shown[] = { "service", "host", "hostaddr", "port", "dbname",
					     "user", NULL };
	PQconninfoOption *opts = PQconninfoParse(dsn, NULL);
	size_t len = 0;

	buf[0] = '\0';
	if (!opts) {
		snprintf(buf, size, "(invalid connection string)");
		return;
	}
	for (int i = 0; shown[i]; i++)
		for (PQconninfoOption *o = opts; o->keyword; o++)
			if (strcmp(o->keyword, shown[i]) == 0 && o->val && *o->val && len < size)
				len += (size_t)snprintf(buf + len, size - len, "%s%s=%s",
							len ? " " : "", o->keyword, o->val);
	PQconninfoFree(opts);
	if (!buf[0])
		snprintf(buf, size, "(defaults)");
}

/* Where a connection went: libpq's view once it tried, which includes defaults. */
static void describe_conn(struct live_snapshot *s)
{
	const char *host = PQhost(s->conn), *port = PQport(s->conn), *db = PQdb(s->conn),
		   *user = PQuser(s->conn);

	if (host && *host)
		snprintf(s->where, sizeof(s->where), "host=%s port=%s dbname=%s user=%s", host,
			 port ? port : "", db ? db : "", user ? user : "");
}

/* libpq's message on one line: its multi-line reports joined with "; ". */
static void one_line(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = in ? in : ""; *p && n + 3 < size; p++) {
		if (*p == '\n') {
			while (p[1] == '\n' || p[1] == ' ' || p[1] == '\t')
				p++;
			if (p[1]) {
				out[n++] = ';';
				out[n++] = ' ';
			}
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
}

static void finish(struct live_snapshot *s, struct model *m, const struct error *err)
{
	live_done_fn done = s->done;

	s->done = NULL;
	if (s->io)
		event_del(s->io);
	if (s->timer)
		event_del(s->timer);
	if (done)
		done(m, err, s->arg);
}

static void fail_conn(struct live_snapshot *s, const char *what)
{
	struct error err;
	char reason[768];

	describe_conn(s);
	one_line(PQerrorMessage(s->conn), reason, sizeof(reason));
	error_set(&err, -EIO, "%s %s: %s", what, s->where, reason[0] ? reason : "unknown error");
	finish(s, NULL, &err);
}

static void on_io(evutil_socket_t fd, short what, void *arg);
static void start_read(struct live_snapshot *s);

/*
 * Watches the socket for what libpq waits on next.  The event persists and
 * is only replaced when the socket or the wanted events change: result
 * streams wake us thousands of times and must not churn events.
 */
static int arm(struct live_snapshot *s, short events)
{
	evutil_socket_t fd = PQsocket(s->conn);

	events |= EV_PERSIST;
	if (s->io && event_get_fd(s->io) == fd && event_get_events(s->io) == events)
		return 0;
	if (s->io) {
		event_del(s->io);
		event_free(s->io);
	}
	s->io = event_new(s->base, fd, events, on_io, s);
	if (!s->io || event_add(s->io, NULL) < 0)
		return -ENOMEM;
	return 0;
}

static void step_read(struct live_snapshot *s)
{
	struct error err;
	int r = catalog_read_step(s->reader, &err);

	if (r == CATALOG_DONE) {
		struct model *m = catalog_read_take_model(s->reader);
		char now[ISOTIME_SIZE];

		isotime_format(time(NULL), now);
		m->taken_at = model_strdup(m, now);
		m->database = model_strdup(m, PQdb(s->conn));
		m->server_version = model_strdup(m, PQparameterStatus(s->conn, "server_version"));
		/* Filtering comes before hashing: the hash means "the schema as this
		 * operator defined it". */
		if (s->opts.filter && !filter_is_empty(s->opts.filter) &&
		    (r = filter_apply(m, s->opts.filter)) < 0) {
			model_free(m);
			error_set(&err, r, "cannot filter the snapshot: %s", strerror(-r));
			finish(s, NULL, &err);
			return;
		}
		if ((r = snapshot_hash(m)) < 0) {
			model_free(m);
			error_set(&err, r, "cannot hash snapshot: %s", strerror(-r));
			finish(s, NULL, &err);
			return;
		}
		finish(s, m, NULL);
		return;
	}
	if (r < 0) {
		describe_conn(s);
		error_prefix(&err, "%s", s->where);
		finish(s, NULL, &err);
		return;
	}
	if (arm(s, (short)(((r & CATALOG_WANT_READ) ? EV_READ : 0) |
			   ((r & CATALOG_WANT_WRITE) ? EV_WRITE : 0))) < 0) {
		error_set(&err, -ENOMEM, "cannot watch the connection's socket");
		finish(s, NULL, &err);
	}
}

static void step_connect(struct live_snapshot *s)
{
	switch (PQconnectPoll(s->conn)) {
	case PGRES_POLLING_FAILED:
		fail_conn(s, "cannot connect to");
		return;
	case PGRES_POLLING_READING:
		if (arm(s, EV_READ) < 0)
			fail_conn(s, "cannot watch the connection to");
		return;
	case PGRES_POLLING_WRITING:
		if (arm(s, EV_WRITE) < 0)
			fail_conn(s, "cannot watch the connection to");
		return;
	case PGRES_POLLING_OK:
		break;
	default:
		return;
	}
	s->connected = true;
	start_read(s);
}

/* PQcancel blocks (it opens a connection of its own): off the loop's thread. */
static void *cancel_thread(void *arg)
{
	PGcancel *c = arg;
	char buf[256];

	PQcancel(c, buf, sizeof(buf));
	PQfreeCancel(c);
	return NULL;
}

static void cancel_query(struct live_snapshot *s)
{
	PGcancel *c = PQgetCancel(s->conn);
	pthread_attr_t attr;
	pthread_t t;

	if (!c)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, cancel_thread, c) != 0)
		PQfreeCancel(c);
	pthread_attr_destroy(&attr);
}

static void start_read(struct live_snapshot *s)
{
	struct error err;

	event_del(s->timer);
	describe_conn(s);
	if (s->opts.read_timeout_ms > 0) {
		struct timeval tv = { s->opts.read_timeout_ms / 1000,
				      (s->opts.read_timeout_ms % 1000) * 1000 };
		evtimer_add(s->timer, &tv);
	}
	if (catalog_read_new(s->conn, &s->opts.catalog, &s->reader) < 0) {
		error_set(&err, -ENOMEM, "out of memory");
		finish(s, NULL, &err);
		return;
	}
	step_read(s);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct live_snapshot *s = arg;

	(void)fd;
	(void)what;
	if (!s->connected)
		step_connect(s);
	else
		step_read(s);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct live_snapshot *s = arg;
	struct error err;

	(void)fd;
	(void)what;
	describe_conn(s);
	if (s->connected) {
		/* A stuck query: cancel it, and drop the connection (it is mid-pipeline). */
		cancel_query(s);
		error_set(&err, -ETIMEDOUT, "%s: catalog read cancelled after %d ms", s->where,
			  s->opts.read_timeout_ms);
		s->broken = true;
	} else {
		error_set(&err, -ETIMEDOUT, "cannot connect to %s: timed out after %d ms", s->where,
			  s->opts.connect_timeout_ms);
	}
	finish(s, NULL, &err);
}

PGconn *live_snapshot_take_conn(struct live_snapshot *s)
{
	PGconn *c = s->conn;

	if (!c || s->broken || !s->connected || PQstatus(c) != CONNECTION_OK ||
	    PQtransactionStatus(c) != PQTRANS_IDLE || PQpipelineStatus(c) != PQ_PIPELINE_OFF)
		return NULL;
	if (s->io) {
		event_free(s->io);
		s->io = NULL;
	}
	s->conn = NULL;
	return c;
}

/* A pooled connection: start reading from the loop, never from inside start. */
static void on_reuse(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_read(arg);
}

int live_snapshot_start(struct event_base *base, const struct live_options *opts,
			live_done_fn done, void *arg, struct live_snapshot **ret)
{
	/* Keywords after dbname override what the DSN says (libpq processes them
	 * in order): every session identifies itself and speaks UTF-8; TCP
	 * keepalives notice a server that vanished.  The password, when given,
	 * comes from a file, never from the DSN text. */
	const char *const keys[] = { "dbname", "application_name", "client_encoding", "keepalives",
				     "keepalives_idle", opts->password ? "password" : NULL, NULL };
	const char *const vals[] = { opts->dsn, "schemadrift", "UTF8", "1", "60", opts->password,
				     NULL };
	struct live_snapshot *s = calloc(1, sizeof(*s));
	struct timeval tv;

	if (!s)
		return -ENOMEM;
	s->base = base;
	s->opts = *opts;
	if (s->opts.connect_timeout_ms <= 0)
		s->opts.connect_timeout_ms = 10000;
	s->done = done;
	s->arg = arg;
	s->opts.password = NULL; /* not kept */
	live_describe_dsn(opts->dsn, s->where, sizeof(s->where));
	s->timer = evtimer_new(base, on_timeout, s);
	if (opts->conn) {
		s->conn = opts->conn;
		s->connected = true;
		s->io = event_new(base, -1, 0, on_reuse, s);
		if (!s->timer || !s->io) {
			live_snapshot_free(s);
			return -ENOMEM;
		}
		event_active(s->io, 0, 0);
		*ret = s;
		return 0;
	}
	s->conn = PQconnectStartParams(keys, vals, 1);
	if (!s->conn || !s->timer) {
		live_snapshot_free(s);
		return -ENOMEM;
	}
	tv.tv_sec = s->opts.connect_timeout_ms / 1000;
	tv.tv_usec = (s->opts.connect_timeout_ms % 1000) * 1000;
	evtimer_add(s->timer, &tv);
	if (PQstatus(s->conn) == CONNECTION_BAD) {
		/* Not even started (a bad DSN): report from the loop, like any failure. */
		event_active(s->io = event_new(base, -1, 0, on_io, s), 0, 0);
	} else if (arm(s, EV_WRITE) < 0) {
		/* libpq: behave as if PQconnectPoll had first said POLLING_WRITING. */
		live_snapshot_free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

void live_snapshot_free(struct live_snapshot *s)
{
	if (!s)
		return;
	if (s->io)
		event_free(s->io);
	if (s->timer)
		event_free(s->timer);
	catalog_read_free(s->reader);
	PQfinish(s->conn);
	free(s);
}

struct run_result {
	struct model *model;
	struct error err;
	bool finished;
};

static void run_done(struct model *m, const struct error *err, void *arg)
{
	struct run_result *res = arg;

	res->finished = true;
	res->model = m;
	if (err)
		res->err = *err;
}

int live_snapshot_run(const struct live_options *opts, struct model **ret, struct error *err)
{
	struct event_base *base = event_base_new();
	struct run_result res = { 0 };
	struct live_snapshot *s = NULL;
	int r;

	if (!base)
		return error_set(err, -ENOMEM, "cannot create an event loop");
	r = live_snapshot_start(base, opts, run_done, &res, &s);
	if (r < 0) {
		event_base_free(base);
		return error_set(err, r, "cannot start a connection: %s", strerror(-r));
	}
	while (!res.finished && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	live_snapshot_free(s);
	event_base_free(base);
	if (!res.model) {
		if (err)
			*err = res.err;
		return res.err.code ? res.err.code : -EIO;
	}
	*ret = res.model;
	return 0;
}
