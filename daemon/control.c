/* The control socket: `schemadrift status` and `run-now`, one JSON request and answer per connection. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "control_request.h"
#include "daemon.h"
#include "fileio.h"
#include "log.h"

struct control {
	struct daemon *d;
	struct evconnlistener *listener;
	char *path;
};

static json_t *status_json(struct daemon *d)
{
	json_t *targets = json_array();

	for (size_t i = 0; i < d->n_targets; i++)
		json_array_append_new(targets, target_status_json(d->targets[i]));
	json_t *j = json_pack("{s:o, s:I, s:I, s:I, s:s?}", "targets", targets, "alerts_sent",
			      (json_int_t)d->alerts_sent, "alerts_failed",
			      (json_int_t)d->alerts_failed, "alerts_unspooled",
			      (json_int_t)d->n_unspooled, "reload_error", d->reload_error);

	/* Only with [daemon] coordination: who this daemon is among the others. */
	if (j && d->fleet)
		json_object_set_new(j, "coordination", fleet_status_json(d->fleet));
	return j;
}

static void on_written(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

static json_t *handle(struct daemon *d, const char *text, size_t len)
{
	struct control_request req;
	json_t *ans;

	control_request_parse(text, len, &req);
	if (req.command == CONTROL_BAD) {
		ans = json_pack("{s:s}", "error", "bad request");
	} else if (req.command == CONTROL_STATUS) {
		ans = status_json(d);
	} else if (req.command == CONTROL_RUN_NOW) {
		struct target *t = req.target[0] ? daemon_find_target(d, req.target) : NULL;
		if (!t) {
			ans = json_pack("{s:s}", "error", "no such target");
		} else {
			const char *result = NULL;
			char why[300] = "";
			log_target(LOG_NOTICE, t->name, NULL, NULL, "run requested from the control socket");
			/* pending: another run follows the one in progress; started or
			 * queued (behind max_concurrent) otherwise. */
			if (!target_may_run(t)) {
				/* Another daemon checks it: run-now goes to that one. */
				snprintf(why, sizeof(why), "checked by another daemon (lease held "
					 "by %s); ask that one",
					 t->holder ? t->holder : "nobody, for now");
			} else if (t->running) {
				t->pending = true;
				result = "pending";
			} else {
				daemon_request_run(d, t);
				result = t->queued ? "queued" : t->running ? "started" : NULL;
				if (!result)
					snprintf(why, sizeof(why), "its lease is about to expire "
						 "unrenewed; not started");
			}
			ans = result ? json_pack("{s:s}", "result", result)
				     : json_pack("{s:s}", "error", why);
		}
	} else if (req.command == CONTROL_RUN_CHECKS) {
		struct target *t = req.target[0] ? daemon_find_target(d, req.target) : NULL;
		int r = t ? target_checks_run_now(t) : -ESRCH;
		ans = r == -ESRCH    ? json_pack("{s:s}", "error", "no such target")
		      : r == -ENOENT ? json_pack("{s:s}", "error", "no checks configured (checks =)")
		      : r == -EREMOTE ? json_pack("{s:s}", "error",
						  "checked by another daemon (it holds the lease)")
		      : r < 0        ? json_pack("{s:s}", "error", "out of memory")
				     : json_pack("{s:s}", "result", r ? "started" : "running");
	} else {
		ans = json_pack("{s:s}", "error", "unknown command");
	}
	return ans;
}

static void answer(struct control *c, struct bufferevent *bev, const char *text, size_t len)
{
	json_t *ans = handle(c->d, text, len);
	char *out = ans ? json_dumps(ans, JSON_COMPACT) : NULL;

	json_decref(ans);
	if (out) {
		bufferevent_write(bev, out, strlen(out));
		bufferevent_write(bev, "\n", 1);
		free(out);
	}
	/* Close once the answer is out; one answer per connection. */
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, on_written, on_event, c);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct control *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);

	if (!line) {
		if (evbuffer_get_length(in) > CONTROL_REQUEST_MAX)
			bufferevent_free(bev);
		return;
	}
	answer(c, bev, line, len);
	free(line);
}

static void on_written(struct bufferevent *bev, void *arg)
{
	bufferevent_data_cb readcb = NULL;

	(void)arg;
	bufferevent_getcb(bev, &readcb, NULL, NULL, NULL);
	if (!readcb)
		bufferevent_free(bev);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);

	/* A request whose writer closed (or shut down) its side without the
	 * final newline is still a request: answer it. */
	bufferevent_data_cb readcb = NULL;

	/* (libevent disables reading before it reports EOF: whether this
	 * connection was answered is in its callbacks.) */
	bufferevent_getcb(bev, &readcb, NULL, NULL, NULL);
	if ((what & BEV_EVENT_EOF) && len > 0 && len <= CONTROL_REQUEST_MAX && readcb) {
		char *text = (char *)evbuffer_pullup(in, -1);
		if (text) {
			answer(arg, bev, text, len);
			return;
		}
	}
	bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		      void *arg)
{
	struct control *c = arg;
	struct bufferevent *bev =
		bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);

	(void)sa;
	(void)len;
	if (!bev) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, on_read, on_written, on_event, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int control_socket_path(const char *runtime_dir, char **ret, struct error *err)
{
	struct sockaddr_un sun;
	char *path = NULL;

	if (asprintf(&path, "%s/control.sock", runtime_dir) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	if (strlen(path) >= sizeof(sun.sun_path)) {
		free(path);
		return error_set(err, -ENAMETOOLONG,
				 "%s: too long for the control socket (at most %zu bytes with "
				 "/control.sock)", runtime_dir, sizeof(sun.sun_path) - 1);
	}
	*ret = path;
	return 0;
}

int control_open(struct daemon *d, const char *runtime_dir, struct control **ret,
		 struct error *err)
{
	struct control *c = calloc(1, sizeof(*c));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;
	int r;

	if (!c)
		return error_set(err, -ENOMEM, "out of memory");
	c->d = d;
	/* The directory keeps other users out (0750); systemd's RuntimeDirectory
	 * makes it, and so do we when run by hand. */
	if ((r = daemon_make_dir(runtime_dir, "runtime_dir", err)) < 0 ||
	    (r = control_socket_path(runtime_dir, &c->path, err)) < 0) {
		free(c);
		return r;
	}
	/* Only we may write there: the socket's path must stay ours. */
	if (fileio_check_dir(runtime_dir, true, err) < 0) {
		free(c);
		return error_prefix(err, "runtime_dir");
	}
	strcpy(sun.sun_path, c->path);
	unlink(c->path);
	old = umask(0117); /* socket 0660 */
	c->listener = evconnlistener_new_bind(d->base, on_accept, c,
					      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
					      (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (!c->listener) {
		int e = errno;
		error_set(err, -e, "%s: cannot listen: %s", c->path, strerror(e));
		free(c->path);
		free(c);
		return -e;
	}
	*ret = c;
	return 0;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	evconnlistener_free(c->listener);
	unlink(c->path);
	free(c->path);
	free(c);
}
