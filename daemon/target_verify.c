/* A target's verify runs: `schemadrift verify` in a child process, its report turned into alerts. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "isotime.h"
#include "log.h"
#include "strbuf.h"
#include "target.h"
#include "target_verify.h"

/*
 * Why a child process: a verify run blocks for seconds (initdb, loading,
 * two catalog reads) and holds two whole models; in a child it never
 * touches the loop, its memory is gone when it ends, and the CLI's own
 * signal handling removes the scratch cluster when the daemon stops it
 * (SIGTERM).  The scratch cluster starts per run (docs/verify.md says why).
 */
struct target_verify {
	struct target *t;
	struct schedule *schedule;
	struct alert_state *astate;
	target_verify_dispatch_fn dispatch;
	struct event *due_timer, *reap_timer, *out_ev, *err_ev;
	time_t next_due;
	pid_t pid;
	int out_fd, err_fd;
	struct strbuf out;          /* the child's stdout: the JSON report */
	char errbuf[2048];          /* the end of its stderr: the reason of a failure */
	size_t err_len;
	/* For status. */
	time_t last_run;
	char *result;               /* "match", "mismatch", "failed"; NULL: never ran */
	size_t differences, pending;
	char *last_error;
	uint64_t runs;
};

static void on_verify_due(evutil_socket_t fd, short what, void *arg);
static void verify_failed(struct target_verify *v, const char *why);

static const char *cli_path(void)
{
	static char path[4096];
	const char *env = getenv("SCHEMADRIFT_CLI");
	char self[4096];
	ssize_t n;

	if (env && *env)
		return env;
	/* Beside schemadriftd (a build tree), else where the package puts it. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/schemadrift", self);
			if (access(path, X_OK) == 0)
				return path;
		}
	}
	return SCHEMADRIFT_CLI_PATH;
}

static void arm(struct target_verify *v)
{
	int64_t delay = (int64_t)(v->next_due - time(NULL)) * 1000;
	struct timeval tv;

	if (delay < 0)
		delay = 0;
	if (delay > 60000) /* the wall clock is checked again each minute, as for runs */
		delay = 60000;
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(v->due_timer, &tv);
}

static void plan_next(struct target_verify *v, bool now)
{
	const struct target *t = v->t;
	int jitter = schedule_jitter(v->schedule, t->name,
				     (int)(t->env->cfg->jitter_ms / 1000));
	time_t n = time(NULL), next;

	if (now) {
		v->next_due = n + jitter;
	} else {
		if (schedule_next(v->schedule, n - jitter, &next) < 0)
			next = n + 86400;
		next += jitter;
		v->next_due = next <= n ? n + 1 : next;
	}
	arm(v);
}

/* The next due time is planned from the loop: the daemon's new configuration
 * (its jitter) is in place only after the targets are built. */
static void replan(struct target_verify *v)
{
	struct timeval zero = { 0, 0 };

	v->next_due = 0;
	evtimer_add(v->due_timer, &zero);
}

static int verify_new(struct target *t, struct target_verify **ret, struct error *err)
{
	struct target_verify *v = calloc(1, sizeof(*v));
	int r;

	if (!v)
		return error_set(err, -ENOMEM, "out of memory");
	v->t = t;
	v->out_fd = v->err_fd = -1;
	v->due_timer = evtimer_new(t->env->base, on_verify_due, v);
	if (!v->due_timer) {
		target_verify_free(v);
		return error_set(err, -ENOMEM, "out of memory");
	}
	if ((r = target_load_state(t, "verify", &v->astate, err)) < 0) {
		target_verify_free(v);
		return r;
	}
	v->astate->mismatch = true;
	*ret = v;
	return 0;
}

int target_verify_setup(struct target *t, struct schedule *schedule,
			target_verify_dispatch_fn dispatch, struct error *err)
{
	struct target_verify *v = t->verify;
	int r;

	if (!schedule || !t->cfg->enabled) {
		schedule_free(schedule);
		target_verify_free(t->verify);
		t->verify = NULL;
		return 0;
	}
	if (!v && (r = verify_new(t, &v, err)) < 0) {
		schedule_free(schedule);
		return r;
	}
	schedule_free(v->schedule);
	v->schedule = schedule;
	v->dispatch = dispatch;
	t->verify = v;
	if (!v->pid)
		replan(v);
	return 0;
}

static void close_child(struct target_verify *v)
{
	if (v->out_ev)
		event_free(v->out_ev);
	if (v->err_ev)
		event_free(v->err_ev);
	v->out_ev = v->err_ev = NULL;
	if (v->out_fd >= 0)
		close(v->out_fd);
	if (v->err_fd >= 0)
		close(v->err_fd);
	v->out_fd = v->err_fd = -1;
	if (v->reap_timer)
		event_free(v->reap_timer);
	v->reap_timer = NULL;
}

int target_verify_reload_state(struct target_verify *v, struct error *err)
{
	struct alert_state *st = NULL;
	int r;

	if (!v)
		return 0;
	if ((r = alert_state_load_store(v->t->store, "verify", &st, err)) < 0)
		return r;
	alert_state_free(v->astate);
	v->astate = st;
	return 0;
}

void target_verify_free(struct target_verify *v)
{
	if (!v)
		return;
	if (v->pid > 0) {
		/* verify removes its scratch cluster on SIGTERM by itself. */
		kill(v->pid, SIGTERM);
		waitpid(v->pid, NULL, WNOHANG);
	}
	close_child(v);
	if (v->due_timer)
		event_free(v->due_timer);
	schedule_free(v->schedule);
	alert_state_free(v->astate);
	strbuf_done(&v->out);
	free(v->result);
	free(v->last_error);
	free(v);
}

/* ---- the report ---- */

static void set_str(char **field, const char *s)
{
	free(*field);
	*field = s ? strdup(s) : NULL;
}

/* Only history findings and the same schema: a state of its own, from both. */
static void problems_hash(const char *live, json_t *problems, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t i;
	json_t *p;

	out[0] = '\0';
	if (!ctx)
		return;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, live, strlen(live));
	json_array_foreach(problems, i, p) {
		const char *m = json_string_value(json_object_get(p, "message"));
		if (m)
			EVP_DigestUpdate(ctx, m, strlen(m) + 1);
	}
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	for (unsigned int k = 0; k < n && k < 32; k++)
		snprintf(out + 2 * k, 3, "%02x", md[k]);
}

static void observe(struct target_verify *v, json_t *report)
{
	struct target *t = v->t;
	struct alert_state_options ao = {
		.repeat_interval_s = t->env->cfg->repeat_interval_ms / 1000,
		.error_threshold = (unsigned)t->env->cfg->error_threshold,
	};
	struct alert_state_event ev[ALERT_STATE_MAX_EVENTS];
	json_t *diff = json_object_get(report, "diff");
	json_t *head = json_object_get(diff, "schemadrift_diff");
	json_t *problems = json_object_get(json_object_get(report, "migrations"), "problems");
	const char *result = json_string_value(json_object_get(report, "result"));
	const char *expected = json_string_value(json_object_get(json_object_get(head, "from"), "hash"));
	const char *live = json_string_value(json_object_get(json_object_get(head, "to"), "hash"));
	json_t *summary = json_object_get(report, "summary");
	char current[65], message[1024];
	size_t n = 0;

	if (!result || !expected || !live) {
		verify_failed(v, "verify printed a report without result or hashes");
		return;
	}
	snprintf(current, sizeof(current), "%s", strcmp(result, "match") == 0 ? expected : live);
	if (strcmp(result, "match") != 0 && strcmp(live, expected) == 0)
		problems_hash(live, problems, current);
	v->pending = (size_t)json_integer_value(json_object_get(summary, "pending"));
	v->differences = json_array_size(json_object_get(diff, "changes")) + json_array_size(problems);
	set_str(&v->result, result);
	set_str(&v->last_error, NULL);
	/* The alert says against what, and the history's findings. */
	int k = snprintf(message, sizeof(message), "against %s",
			 t->cfg->expected ? t->cfg->expected : "the expected_cmd's schema");
	size_t i;
	json_t *p;
	json_array_foreach(problems, i, p) {
		const char *m = json_string_value(json_object_get(p, "message"));
		if (m && k > 0 && (size_t)k < sizeof(message))
			k += snprintf(message + k, sizeof(message) - (size_t)k, "; %s", m);
	}
	int changed = target_lost_lease(t) || t->state_pending ? -1
		    : alert_state_observe_ok(v->astate, &ao, expected, current, time(NULL), ev, &n);
	if (changed >= 0)
		v->dispatch(t, v->astate, "verify", changed, ev, n, diff, message);
	log_target(strcmp(result, "match") == 0 ? LOG_INFO : LOG_WARNING, t->name, NULL, live,
		   "verify: %s (%zu difference%s, %zu pending)", result, v->differences,
		   v->differences == 1 ? "" : "s", v->pending);
}

static void verify_failed(struct target_verify *v, const char *why)
{
	struct target *t = v->t;
	struct alert_state_options ao = {
		.repeat_interval_s = t->env->cfg->repeat_interval_ms / 1000,
		.error_threshold = (unsigned)t->env->cfg->error_threshold,
	};
	struct alert_state_event ev[ALERT_STATE_MAX_EVENTS];
	size_t n = 0;

	set_str(&v->result, "failed");
	set_str(&v->last_error, why);
	log_target(LOG_WARNING, t->name, NULL, NULL, "verify failed: %s", why);
	int changed = target_lost_lease(t) || t->state_pending ? -1
		    : alert_state_observe_error(v->astate, &ao, time(NULL), ev, &n);
	if (changed >= 0)
		v->dispatch(t, v->astate, "verify", changed, ev, n, NULL, why);
}

static void finished(struct target_verify *v, int status)
{
	json_error_t jerr;
	json_t *report = NULL;

	v->pid = 0;
	close_child(v);
	v->runs++;
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1) &&
	    !v->out.failed)
		report = json_loadb(v->out.s ? v->out.s : "", v->out.len, 0, &jerr);
	if (report) {
		observe(v, report);
	} else {
		/* Its last stderr line says why ("schemadrift: file.sql:3: ..."). */
		char why[1024];
		while (v->err_len && (v->errbuf[v->err_len - 1] == '\n'))
			v->err_len--;
		v->errbuf[v->err_len] = '\0';
		char *line = strrchr(v->errbuf, '\n');
		line = line ? line + 1 : v->errbuf;
		if (strncmp(line, "schemadrift: ", 13) == 0)
			line += 13;
		if (*line)
			snprintf(why, sizeof(why), "%s", line);
		else if (WIFEXITED(status))
			snprintf(why, sizeof(why), "schemadrift verify exited with status %d",
				 WEXITSTATUS(status));
		else
			snprintf(why, sizeof(why), "schemadrift verify was killed by signal %d",
				 WTERMSIG(status));
		verify_failed(v, why);
	}
	json_decref(report);
	strbuf_reset(&v->out);
	v->err_len = 0;
	plan_next(v, false);
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct target_verify *v = arg;
	struct timeval tv = { 0, 100 * 1000 };
	int status;

	(void)fd;
	(void)what;
	if (v->out_fd >= 0 || v->err_fd >= 0)
		return; /* still reading: called again at EOF */
	pid_t w = waitpid(v->pid, &status, WNOHANG);
	if (w == v->pid) {
		finished(v, status);
		return;
	}
	if (w < 0) {
		finished(v, 2 << 8);
		return;
	}
	evtimer_add(v->reap_timer, &tv);
}

static void on_output(evutil_socket_t fd, short what, void *arg)
{
	struct target_verify *v = arg;
	char buf[65536];
	bool is_out = fd == v->out_fd;
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)what;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && is_out) {
		strbuf_put(&v->out, buf, (size_t)n); /* a failure makes the run fail, once */
		return;
	}
	if (n > 0) { /* keep the end of stderr */
		size_t keep = sizeof(v->errbuf) - 1;
		if ((size_t)n >= keep) {
			memcpy(v->errbuf, buf + n - keep, keep);
			v->err_len = keep;
		} else {
			if (v->err_len + (size_t)n > keep) {
				size_t drop = v->err_len + (size_t)n - keep;
				memmove(v->errbuf, v->errbuf + drop, v->err_len - drop);
				v->err_len -= drop;
			}
			memcpy(v->errbuf + v->err_len, buf, (size_t)n);
			v->err_len += (size_t)n;
		}
		return;
	}
	/* EOF (or an error): this pipe is done. */
	if (is_out) {
		event_free(v->out_ev);
		v->out_ev = NULL;
		close(v->out_fd);
		v->out_fd = -1;
	} else {
		event_free(v->err_ev);
		v->err_ev = NULL;
		close(v->err_fd);
		v->err_fd = -1;
	}
	if (v->out_fd < 0 && v->err_fd < 0)
		on_reap(-1, 0, v);
}

/* argv of `schemadrift verify` for this target. */
static char **build_argv(const struct target *t)
{
	const struct config_target *c = t->cfg;
	char timeout[32];
	size_t cap = 32 + 2 * (c->n_include + c->n_exclude + c->n_include_schema +
			       c->n_exclude_schema + c->n_ignore), n = 0;
	char **argv = calloc(cap, sizeof(*argv));

	if (!argv)
		return NULL;
#define ARG(s) (argv[n++] = strdup(s))
	snprintf(timeout, sizeof(timeout), "%g", t->env->cfg->connect_timeout_ms / 1000.0);
	ARG("schemadrift");
	ARG("verify");
	ARG("--format");
	ARG("json");
	ARG("--dsn");
	ARG(c->dsn);
	ARG("--connect-timeout");
	ARG(timeout);
	if (c->expected) {
		ARG("--expected");
		ARG(c->expected);
	} else {
		ARG("--expected-cmd");
		ARG(c->expected_cmd);
	}
	const struct {
		const char *opt, *val;
	} single[] = { { "--expected-format", c->expected_format },
		       { "--scratch-dsn", c->scratch_dsn },
		       { "--pg-bindir", c->pg_bindir },
		       { "--partitions", c->partitions } };
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		if (single[i].val) {
			ARG(single[i].opt);
			ARG(single[i].val);
		}
	const struct {
		const char *opt;
		char **items;
		size_t n;
	} lists[] = { { "--include", c->include, c->n_include },
		      { "--exclude", c->exclude, c->n_exclude },
		      { "--include-schema", c->include_schema, c->n_include_schema },
		      { "--exclude-schema", c->exclude_schema, c->n_exclude_schema },
		      { "--ignore", c->ignore, c->n_ignore } };
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		for (size_t k = 0; k < lists[i].n; k++) {
			ARG(lists[i].opt);
			ARG(lists[i].items[k]);
		}
#undef ARG
	for (size_t i = 0; i < n; i++)
		if (!argv[i]) {
			for (size_t k = 0; k < n; k++)
				free(argv[k]);
			free(argv);
			return NULL;
		}
	return argv;
}

static void free_argv(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

extern char **environ;

/* The environment of verify: ours, and the target's password (never in argv).  verify takes
 * it out of its environment before it starts anything else. */
static char **build_envp(const struct target *t)
{
	size_t n = 0, k = 0;
	char **envp;

	while (environ[n])
		n++;
	envp = calloc(n + 2, sizeof(*envp));
	if (!envp)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "SCHEMADRIFT_TARGET_PASSWORD=", 28) != 0)
			envp[k++] = environ[i];
	if (t->password && asprintf(&envp[k], "SCHEMADRIFT_TARGET_PASSWORD=%s", t->password) < 0) {
		free(envp);
		return NULL;
	}
	return envp;
}

static void free_envp(const struct target *t, char **envp)
{
	size_t n = 0;

	while (envp[n])
		n++;
	if (t->password && n > 0) { /* the last one is ours */
		explicit_bzero(envp[n - 1], strlen(envp[n - 1]));
		free(envp[n - 1]);
	}
	free(envp);
}

static int start(struct target_verify *v, struct error *err)
{
	const char *cli = cli_path();
	char **argv = build_argv(v->t), **envp = build_envp(v->t);
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	pid_t pid;

	if (!argv || !envp) {
		free_argv(argv);
		if (envp)
			free_envp(v->t, envp);
		return error_set(err, -ENOMEM, "out of memory");
	}
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		int e = errno;
		for (int i = 0; i < 2; i++) {
			if (out[i] >= 0)
				close(out[i]);
			if (errp[i] >= 0)
				close(errp[i]);
		}
		free_argv(argv);
		free_envp(v->t, envp);
		return error_set(err, -e, "pipe: %s", strerror(e));
	}
	pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls here: the daemon has threads. */
		static const char msg[] = "schemadrift: cannot run the schemadrift CLI\n";
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(out[1], STDOUT_FILENO);
		dup2(errp[1], STDERR_FILENO);
		execve(cli, argv, envp);
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
			_exit(2);
		_exit(2);
	}
	free_argv(argv);
	free_envp(v->t, envp);
	close(out[1]);
	close(errp[1]);
	if (pid < 0) {
		close(out[0]);
		close(errp[0]);
		return error_set(err, -errno, "fork: %s", strerror(errno));
	}
	v->pid = pid;
	v->out_fd = out[0];
	v->err_fd = errp[0];
	fcntl(v->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(v->err_fd, F_SETFL, O_NONBLOCK);
	v->out_ev = event_new(v->t->env->base, v->out_fd, EV_READ | EV_PERSIST, on_output, v);
	v->err_ev = event_new(v->t->env->base, v->err_fd, EV_READ | EV_PERSIST, on_output, v);
	v->reap_timer = evtimer_new(v->t->env->base, on_reap, v);
	if (!v->out_ev || !v->err_ev || !v->reap_timer || event_add(v->out_ev, NULL) < 0 ||
	    event_add(v->err_ev, NULL) < 0) {
		kill(pid, SIGTERM);
		close_child(v);
		return error_set(err, -ENOMEM, "out of memory");
	}
	v->last_run = time(NULL);
	log_target(LOG_DEBUG, v->t->name, NULL, NULL, "verify: started %s (pid %d)", cli, (int)pid);
	return 0;
}

static void on_verify_due(evutil_socket_t fd, short what, void *arg)
{
	struct target_verify *v = arg;
	struct error err;

	(void)fd;
	(void)what;
	if (v->next_due == 0) { /* the first run after a start or reload is soon */
		plan_next(v, v->runs == 0);
		return;
	}
	if (time(NULL) < v->next_due) {
		arm(v);
		return;
	}
	if (v->pid)
		return; /* still running: its end schedules the next */
	/* Another daemon holds the target (it verifies), or our lease has under a
	 * quarter of lease_timeout left (the next holder will). */
	if (!target_may_start(v->t)) {
		plan_next(v, false);
		return;
	}
	if (start(v, &err) < 0) {
		verify_failed(v, err.text);
		plan_next(v, false);
	}
}

bool target_verify_running(const struct target_verify *v)
{
	return v && v->pid > 0;
}

json_t *target_verify_status_json(const struct target_verify *v)
{
	char last[21] = "", next[21] = "";

	if (v->last_run)
		isotime_format(v->last_run, last);
	if (v->next_due)
		isotime_format(v->next_due, next);
	return json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:s?}", "state",
			 v->pid ? "running" : v->result ? v->result : "not run yet", "last_run", last,
			 "next_run", next, "mismatch", v->astate->drift, "differences",
			 (json_int_t)v->differences, "pending", (json_int_t)v->pending, "runs",
			 (json_int_t)v->runs, "last_error", v->last_error);
}
