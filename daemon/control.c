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

#include "daemon.h"
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
	return json_pack("{s:o, s:I, s:I, s:s?}", "targets", targets, "alerts_sent",
			 (json_int_t)d->alerts_sent, "alerts_failed", (json_int_t)d->alerts_failed,
			 "reload_error", d->reload_error);
}

static json_t *handle(struct daemon *d, const char *line)
{
	json_error_t jerr;
	json_t *req = json_loads(line, 0, &jerr), *ans;
	const char *cmd = json_string_value(json_object_get(req, "command"));

	if (!cmd) {
		ans = json_pack("{s:s}", "error", "bad request");
	} else if (strcmp(cmd, "status") == 0) {
		ans = status_json(d);
	} else if (strcmp(cmd, "run-now") == 0) {
		const char *name = json_string_value(json_object_get(req, "target"));
		struct target *t = NULL;
		for (size_t i = 0; name && i < d->n_targets; i++)
			if (strcmp(d->targets[i]->name, name) == 0)
				t = d->targets[i];
		if (!t) {
			ans = json_pack("{s:s}", "error", "no such target");
		} else {
			const char *result;
			log_target(LOG_NOTICE, t->name, NULL, NULL, "run requested from the control socket");
			/* pending: another run follows the one in progress; started or
			 * queued (behind max_concurrent) otherwise. */
			if (t->running) {
				t->pending = true;
				result = "pending";
			} else {
				daemon_request_run(d, t);
				result = t->queued ? "queued" : "started";
			}
			ans = json_pack("{s:s}", "result", result);
		}
	} else if (strcmp(cmd, "run-checks") == 0) {
		const char *name = json_string_value(json_object_get(req, "target"));
		struct target *t = NULL;
		for (size_t i = 0; name && i < d->n_targets; i++)
			if (strcmp(d->targets[i]->name, name) == 0)
				t = d->targets[i];
		int r = t ? target_checks_run_now(t) : -ESRCH;
		ans = r == -ESRCH    ? json_pack("{s:s}", "error", "no such target")
		      : r == -ENOENT ? json_pack("{s:s}", "error", "no checks configured (checks =)")
		      : r < 0        ? json_pack("{s:s}", "error", "out of memory")
				     : json_pack("{s:s}", "result", r ? "started" : "running");
	} else {
		ans = json_pack("{s:s}", "error", "unknown command");
	}
	json_decref(req);
	return ans;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct control *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	json_t *ans;
	char *text;

	if (!line) {
		if (evbuffer_get_length(in) > 65536)
			bufferevent_free(bev);
		return;
	}
	ans = handle(c->d, line);
	free(line);
	text = ans ? json_dumps(ans, JSON_COMPACT) : NULL;
	json_decref(ans);
	if (text) {
		bufferevent_write(bev, text, strlen(text));
		bufferevent_write(bev, "\n", 1);
		free(text);
	}
	/* Close once the answer is out. */
	bufferevent_disable(bev, EV_READ);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
}

static void on_written(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (!(bufferevent_get_enabled(bev) & EV_READ))
		bufferevent_free(bev);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
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

int control_open(struct daemon *d, const char *runtime_dir, struct control **ret,
		 struct error *err)
{
	struct control *c = calloc(1, sizeof(*c));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;

	if (!c)
		return error_set(err, -ENOMEM, "out of memory");
	c->d = d;
	/* The directory keeps other users out (0750); systemd's RuntimeDirectory
	 * makes it, and so do we when run by hand. */
	if (mkdir(runtime_dir, 0750) < 0 && errno != EEXIST) {
		int e = errno;
		free(c);
		return error_set(err, -e, "%s: %s", runtime_dir, strerror(e));
	}
	if (asprintf(&c->path, "%s/control.sock", runtime_dir) < 0 ||
	    strlen(c->path) >= sizeof(sun.sun_path)) {
		free(c);
		return error_set(err, -ENAMETOOLONG, "%s: control socket path too long", runtime_dir);
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
