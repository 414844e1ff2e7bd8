/* schemadrift status and run-now: ask a running schemadriftd through its control socket. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "isotime.h"
#include "utf8.h"

#define DEFAULT_RUNTIME_DIR "/run/schemadrift"
/* The daemon answers from its event loop; a loop that does not answer in
 * this long is stuck, and saying so beats hanging the operator's shell. */
#define ANSWER_TIMEOUT_MS 15000
#define MAX_ANSWER (16 * 1024 * 1024)

static const char *runtime_dir(const struct cli *c)
{
	const char *env = getenv("SCHEMADRIFT_RUNTIME_DIR");

	if (c->runtime_dir)
		return c->runtime_dir;
	return env && *env ? env : DEFAULT_RUNTIME_DIR;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one line (the answer) until newline or EOF, within the deadline. */
static int read_answer(int fd, const char *path, char **ret, struct error *err)
{
	int64_t deadline = isotime_mono_ms() + ANSWER_TIMEOUT_MS;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf)
		return error_set(err, -ENOMEM, "out of memory");
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - isotime_mono_ms();
		ssize_t n;
		int r;

		if (left <= 0) {
			free(buf);
			return error_set(err, -ETIMEDOUT, "%s: no answer from schemadriftd in %d s",
					 path, ANSWER_TIMEOUT_MS / 1000);
		}
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			return error_set(err, -e, "%s: %s", path, strerror(e));
		}
		if (r == 0)
			continue;
		if (len + 1 >= cap) {
			char *grown = cap < MAX_ANSWER ? realloc(buf, cap * 2) : NULL;
			if (!grown) {
				free(buf);
				return error_set(err, -E2BIG, "%s: answer too long", path);
			}
			buf = grown;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			return error_set(err, -e, "%s: %s", path, strerror(e));
		}
		len += (size_t)n;
		buf[len] = '\0';
		if (n == 0 || memchr(buf, '\n', len))
			break;
	}
	if (len == 0) {
		free(buf);
		return error_set(err, -ECONNRESET, "%s: schemadriftd closed the connection without "
				 "answering", path);
	}
	*ret = buf;
	return 0;
}

/* Sends one request line and returns the daemon's JSON answer. */
int cli_control_ask(const struct cli *c, json_t *req, json_t **ret, struct error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char path[sizeof(sun.sun_path) + 64];
	char *line = NULL, *answer = NULL;
	json_error_t jerr;
	json_t *ans;
	int fd, r;

	snprintf(path, sizeof(path), "%s/control.sock", runtime_dir(c));
	if (strlen(path) >= sizeof(sun.sun_path))
		return error_set(err, -ENAMETOOLONG, "%s: path too long for a unix socket", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_set(err, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			return error_set(err, -e, "%s: %s (is schemadriftd running? --runtime-dir "
					 "names another directory)", path, strerror(e));
		if (e == EACCES || e == EPERM)
			return error_set(err, -e, "%s: %s (the socket is for root and the "
					 "schemadrift group)", path, strerror(e));
		return error_set(err, -e, "%s: %s", path, strerror(e));
	}
	line = json_dumps(req, JSON_COMPACT);
	if (!line) {
		close(fd);
		return error_set(err, -ENOMEM, "out of memory");
	}
	r = send_all(fd, line, strlen(line));
	if (r == 0)
		r = send_all(fd, "\n", 1);
	free(line);
	if (r < 0) {
		close(fd);
		return error_set(err, r, "%s: %s", path, strerror(-r));
	}
	r = read_answer(fd, path, &answer, err);
	close(fd);
	if (r < 0)
		return r;
	ans = json_loads(answer, JSON_DISABLE_EOF_CHECK, &jerr);
	free(answer);
	if (!json_is_object(ans)) {
		json_decref(ans);
		return error_set(err, -EBADMSG, "%s: the answer is not a JSON object", path);
	}
	*ret = ans;
	return 0;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* Error texts come from servers and files: escaped (utf8.h). */
static void put_clean(const char *s)
{
	utf8_escape_fputs(s, strlen(s), 0, stdout);
}

static const char *or_dash(const char *s)
{
	return *s ? s : "-";
}

/* A target's check findings (target_check.c), indented under its line. */
static void print_checks(const json_t *ck)
{
	const json_t *f;
	size_t i;

	if (!json_is_object(ck))
		return;
	printf("  checks: %lld finding%s (%lld breaking, %lld warning, %lld info), %lld acknowledged; "
	       "last run %s, next %s", (long long)json_integer_value(json_object_get(ck, "findings")),
	       json_integer_value(json_object_get(ck, "findings")) == 1 ? "" : "s",
	       (long long)json_integer_value(json_object_get(ck, "breaking")),
	       (long long)json_integer_value(json_object_get(ck, "warning")),
	       (long long)json_integer_value(json_object_get(ck, "info")),
	       (long long)json_integer_value(json_object_get(ck, "acknowledged")),
	       or_dash(str(ck, "last_run")), or_dash(str(ck, "next_run")));
	if (*str(ck, "last_error")) {
		fputs("; last error: ", stdout);
		put_clean(str(ck, "last_error"));
	}
	putchar('\n');
	json_array_foreach(json_object_get(ck, "list"), i, f) {
		printf("    %-8s ", str(f, "severity"));
		put_clean(str(f, "key"));
		fputs(json_is_true(json_object_get(f, "acknowledged")) ? "  (acknowledged)\n" : "\n",
		      stdout);
	}
}

static void print_status_text(const json_t *ans)
{
	const json_t *targets = json_object_get(ans, "targets");
	const json_t *coord = json_object_get(ans, "coordination");

	if (!json_is_object(coord)) /* null without [daemon] coordination */
		coord = NULL;
	int w_target = 6, w_state = 5, w_holder = 6;
	size_t i;
	const json_t *t;

	json_array_foreach(targets, i, t) {
		int a = (int)strlen(str(t, "target")), b = (int)strlen(str(t, "state"));
		int h = (int)strlen(or_dash(str(t, "holder")));
		w_target = a > w_target ? a : w_target;
		w_state = b > w_state ? b : w_state;
		w_holder = h > w_holder ? h : w_holder;
	}
	if (coord) { /* [daemon] coordination: who checks what (docs/operations.md) */
		fputs("coordination: node ", stdout);
		put_clean(str(coord, "node"));
		printf(", %s, %lld live node%s, %lld lease%s held, %lld takeover%s",
		       json_is_true(json_object_get(coord, "connected")) ? "connected"
									 : "NOT CONNECTED",
		       (long long)json_integer_value(json_object_get(coord, "live_nodes")),
		       json_integer_value(json_object_get(coord, "live_nodes")) == 1 ? "" : "s",
		       (long long)json_integer_value(json_object_get(coord, "leases_held")),
		       json_integer_value(json_object_get(coord, "leases_held")) == 1 ? "" : "s",
		       (long long)json_integer_value(json_object_get(coord, "takeovers")),
		       json_integer_value(json_object_get(coord, "takeovers")) == 1 ? "" : "s");
		if (*str(coord, "last_error")) {
			fputs(": ", stdout);
			put_clean(str(coord, "last_error"));
		}
		putchar('\n');
		printf("%-*s  %-*s  %-*s  %-20s  %-12s  %-20s  %s\n", w_target, "TARGET", w_holder,
		       "HOLDER", w_state, "STATE", "LAST RUN", "HASH", "NEXT RUN", "LAST ERROR");
	} else {
		printf("%-*s  %-*s  %-20s  %-12s  %-20s  %s\n", w_target, "TARGET", w_state,
		       "STATE", "LAST RUN", "HASH", "NEXT RUN", "LAST ERROR");
	}
	json_array_foreach(targets, i, t) {
		char hash[13];

		snprintf(hash, sizeof(hash), "%s", or_dash(str(t, "hash")));
		printf("%-*s  ", w_target, str(t, "target"));
		if (coord) {
			/* A node's name comes from the coordination database: escaped. */
			int len = (int)strlen(or_dash(str(t, "holder")));
			put_clean(or_dash(str(t, "holder")));
			printf("%*s  ", w_holder - len, "");
		}
		printf("%-*s  %-20s  %-12s  %-20s  ", w_state, str(t, "state"),
		       or_dash(str(t, "last_run")), hash, or_dash(str(t, "next_run")));
		put_clean(or_dash(str(t, "last_error")));
		putchar('\n');
		const json_t *v = json_object_get(t, "verify");
		if (v) { /* expected = PATH (docs/verify.md) */
			printf("%-*s  verify: %s, %lld difference%s, %lld pending, last %s, next %s",
			       w_target, "", str(v, "state"),
			       (long long)json_integer_value(json_object_get(v, "differences")),
			       json_integer_value(json_object_get(v, "differences")) == 1 ? "" : "s",
			       (long long)json_integer_value(json_object_get(v, "pending")),
			       or_dash(str(v, "last_run")), or_dash(str(v, "next_run")));
			if (*str(v, "last_error")) {
				fputs(": ", stdout);
				put_clean(str(v, "last_error"));
			}
			putchar('\n');
		}
		print_checks(json_object_get(t, "checks"));
	}
	if (json_array_size(targets) == 0)
		puts("(no targets configured)");
	json_int_t unspooled = json_integer_value(json_object_get(ans, "alerts_unspooled"));
	if (unspooled > 0)
		printf("%lld alert%s could not be spooled (is the disk full?): kept in memory, "
		       "retried every 5 s\n", (long long)unspooled, unspooled == 1 ? "" : "s");
	if (*str(ans, "reload_error")) {
		fputs("last reload failed, the previous configuration is still running: ", stdout);
		put_clean(str(ans, "reload_error"));
		putchar('\n');
	}
}

int cli_cmd_status(const struct cli *c, int argc, char **argv)
{
	const char *format = c->format ? c->format : "text";
	json_t *req, *ans = NULL;
	struct error err;
	int r;

	(void)argv;
	if (argc != 0) {
		cli_fail("status takes no arguments (see --help)");
		return EXIT_TROUBLE;
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
		cli_fail("--format takes text or json");
		return EXIT_TROUBLE;
	}
	req = json_pack("{s:s}", "command", "status");
	r = req ? cli_control_ask(c, req, &ans, &err) : error_set(&err, -ENOMEM, "out of memory");
	json_decref(req);
	if (r < 0) {
		cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	if (json_object_get(ans, "error")) {
		cli_fail("schemadriftd: %s", str(ans, "error"));
		json_decref(ans);
		return EXIT_TROUBLE;
	}
	if (strcmp(format, "json") == 0) {
		json_dumpf(ans, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		print_status_text(ans);
	}
	json_decref(ans);
	return fflush(stdout) == 0 ? EXIT_SAME : EXIT_TROUBLE;
}

int cli_cmd_run_now(const struct cli *c, int argc, char **argv)
{
	json_t *req, *ans = NULL;
	struct error err;
	const char *result;
	int r;

	if (argc != 1) {
		cli_fail("run-now takes one TARGET (see --help)");
		return EXIT_TROUBLE;
	}
	req = json_pack("{s:s, s:s}", "command", "run-now", "target", argv[0]);
	r = req ? cli_control_ask(c, req, &ans, &err) : error_set(&err, -ENOMEM, "out of memory");
	json_decref(req);
	if (r < 0) {
		cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	if (json_object_get(ans, "error")) {
		cli_fail("run-now %s: %s", argv[0], str(ans, "error"));
		json_decref(ans);
		return EXIT_TROUBLE;
	}
	/* started: running now; queued: waits for a free slot (max_concurrent);
	 * pending: a run was in progress, another one follows it. */
	result = str(ans, "result");
	if (strcmp(result, "pending") == 0)
		printf("%s: a run is in progress; another one follows it\n", argv[0]);
	else if (strcmp(result, "queued") == 0)
		printf("%s: run queued (max_concurrent runs are in progress)\n", argv[0]);
	else
		printf("%s: run %s\n", argv[0], or_dash(result));
	json_decref(ans);
	return fflush(stdout) == 0 ? EXIT_SAME : EXIT_TROUBLE;
}
