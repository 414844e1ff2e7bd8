/* Unit tests for lib/http.c against a real HTTP receiver (tests/integration/http_receiver.py). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "http.h"

/* ------------------------------------------------------------ the receiver */

struct receiver {
	pid_t pid;
	FILE *out; /* its stdout: "listening URL", then one JSON line per request */
	char url[128];
};

static void receiver_start(struct receiver *rx, const char *const *args)
{
	char script[PATH_MAX], here[PATH_MAX];
	const char *argv[16] = { "/usr/bin/python3", script };
	char line[256];
	int fds[2], n = 2;

	/* __FILE__ is absolute in CMake builds: the receiver sits in ../integration. */
	snprintf(here, sizeof(here), "%s", __FILE__);
	snprintf(script, sizeof(script), "%s/../integration/http_receiver.py", dirname(here));
	for (; args && *args && n < 14; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	ck_assert_int_eq(pipe(fds), 0);
	rx->pid = fork();
	ck_assert_int_ge(rx->pid, 0);
	if (rx->pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	rx->out = fdopen(fds[0], "r");
	ck_assert_ptr_nonnull(rx->out);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), rx->out));
	ck_assert_int_eq(sscanf(line, "listening %127s", rx->url), 1);
}

static void receiver_stop(struct receiver *rx)
{
	int status;

	kill(rx->pid, SIGTERM);
	waitpid(rx->pid, &status, 0);
	fclose(rx->out);
}

/* The next request the receiver recorded. */
static json_t *receiver_next(struct receiver *rx)
{
	char *line = NULL;
	size_t cap = 0;
	json_t *j;

	ck_assert_int_gt(getline(&line, &cap, rx->out), 0);
	j = json_loads(line, 0, NULL);
	free(line);
	ck_assert_ptr_nonnull(j);
	return j;
}

/* ------------------------------------------------------------ callbacks */

struct outcome {
	int calls;
	int error;
	long status;
	char message[256];
	char body[256];
	char content_length[32];
	int retry_after;
	struct event_base *base;
	int *pending; /* loop exits when it reaches 0 */
};

static void on_done(const struct http_response *res, void *arg)
{
	struct outcome *o = arg;
	const char *cl = http_response_header(res, "content-length");

	o->calls++;
	o->error = res->error;
	o->status = res->status;
	snprintf(o->message, sizeof(o->message), "%s", res->message);
	snprintf(o->body, sizeof(o->body), "%s", res->body);
	snprintf(o->content_length, sizeof(o->content_length), "%s", cl ? cl : "");
	o->retry_after = http_retry_after(res, time(NULL));
	if (o->pending && --*o->pending == 0)
		event_base_loopbreak(o->base);
}

static void on_done_forbidden(const struct http_response *res, void *arg)
{
	(void)res;
	(void)arg;
	ck_abort_msg("a cancelled call's callback ran");
}

static struct http_request post(const char *url, const char *body)
{
	static const char *const headers[] = { "Content-Type: application/json",
					       "X-Test: yes" };
	struct http_request r = {
		.url = url, .headers = headers, .n_headers = 2, .body = body,
		.body_len = strlen(body), .allow_http = true,
	};

	return r;
}

/* ------------------------------------------------------------ tests */

START_TEST(test_post_reaches_the_receiver)
{
	struct receiver rx;
	struct event_base *base = event_base_new();
	struct http_client *c = NULL;
	int pending = 1;
	struct outcome o = { .base = base, .pending = &pending };
	char url[256];
	struct http_request r;
	struct error err;
	json_t *req;

	receiver_start(&rx, NULL);
	snprintf(url, sizeof(url), "%s/path/SECRET?x=1", rx.url);
	r = post(url, "{\"hello\":1}");
	ck_assert_int_eq(http_client_new(base, &c, &err), 0);
	ck_assert_int_eq(http_post(c, &r, on_done, &o, NULL, &err), 0);
	/* Never from inside http_post(): only the loop completes calls. */
	ck_assert_int_eq(o.calls, 0);
	ck_assert_uint_eq(http_client_active(c), 1);
	event_base_dispatch(base);
	ck_assert_int_eq(o.calls, 1);
	ck_assert_int_eq(o.error, 0);
	ck_assert_int_eq(o.status, 200);
	ck_assert_str_eq(o.content_length, "0");
	ck_assert_uint_eq(http_client_active(c), 0);

	req = receiver_next(&rx);
	ck_assert_str_eq(json_string_value(json_object_get(req, "method")), "POST");
	ck_assert_str_eq(json_string_value(json_object_get(req, "path")), "/path/SECRET?x=1");
	ck_assert_str_eq(json_string_value(json_object_get(req, "body")), "{\"hello\":1}");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(req, "headers"),
							   "x-test")),
			 "yes");
	ck_assert_ptr_null(json_object_get(json_object_get(req, "headers"), "expect"));
	json_decref(req);
	http_client_free(c);
	event_base_free(base);
	receiver_stop(&rx);
}
END_TEST

START_TEST(test_many_at_once)
{
	enum { N = 200 };
	static const char *const args[] = { "--status", "503", "--retry-after", "12", NULL };
	struct receiver rx;
	struct event_base *base = event_base_new();
	struct http_client *c = NULL;
	struct outcome *o = calloc(N, sizeof(*o));
	int pending = N;
	struct http_request r;
	struct error err;

	receiver_start(&rx, args);
	r = post(rx.url, "{}");
	ck_assert_int_eq(http_client_new(base, &c, &err), 0);
	for (int i = 0; i < N; i++) {
		o[i].base = base;
		o[i].pending = &pending;
		ck_assert_int_eq(http_post(c, &r, on_done, &o[i], NULL, &err), 0);
	}
	event_base_dispatch(base);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(o[i].calls, 1);
		ck_assert_int_eq(o[i].status, 503);
		ck_assert_int_eq(o[i].retry_after, 12);
		ck_assert_str_eq(o[i].body, "error");
	}
	http_client_free(c);
	event_base_free(base);
	receiver_stop(&rx);
	free(o);
}
END_TEST

static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(*(int *)arg)++;
}

START_TEST(test_timeout_without_blocking_the_loop)
{
	static const char *const args[] = { "--hang", NULL };
	struct receiver rx;
	struct event_base *base = event_base_new();
	struct http_client *c = NULL;
	int pending = 1, ticks = 0;
	struct outcome o = { .base = base, .pending = &pending };
	struct timeval every = { 0, 20000 };
	struct event *t = event_new(base, -1, EV_PERSIST, tick, &ticks);
	char url[256];
	struct http_request r;
	struct error err;

	receiver_start(&rx, args);
	snprintf(url, sizeof(url), "%s/hook/SECRETPATH", rx.url);
	r = post(url, "{}");
	r.timeout_ms = 500;
	ck_assert_int_eq(http_client_new(base, &c, &err), 0);
	ck_assert_int_eq(http_post(c, &r, on_done, &o, NULL, &err), 0);
	event_add(t, &every);
	event_base_dispatch(base);
	ck_assert_int_eq(o.calls, 1);
	ck_assert_int_eq(o.error, -ETIMEDOUT);
	ck_assert_int_eq(o.status, 0);
	ck_assert_str_ne(o.message, "");
	ck_assert_ptr_null(strstr(o.message, "SECRETPATH"));
	/* The loop kept running other events while the request waited. */
	ck_assert_int_gt(ticks, 0);
	event_free(t);
	http_client_free(c);
	event_base_free(base);
	receiver_stop(&rx);
}
END_TEST

START_TEST(test_cancel_and_free_in_flight)
{
	static const char *const args[] = { "--hang", NULL };
	struct receiver rx;
	struct event_base *base = event_base_new();
	struct http_client *c = NULL;
	struct http_call *calls[4];
	struct timeval shortly = { 0, 200000 };
	struct http_request r;
	struct error err;

	receiver_start(&rx, args);
	r = post(rx.url, "{\"secret\":\"body\"}");
	ck_assert_int_eq(http_client_new(base, &c, &err), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(http_post(c, &r, on_done_forbidden, NULL, &calls[i], &err), 0);
	/* Let them connect and send, then drop them: no callback may run. */
	event_base_loopexit(base, &shortly);
	event_base_dispatch(base);
	ck_assert_uint_eq(http_client_active(c), 4);
	http_call_cancel(calls[1]);
	http_call_cancel(calls[2]);
	ck_assert_uint_eq(http_client_active(c), 2);
	http_client_free(c);
	event_base_loopexit(base, &shortly);
	event_base_dispatch(base);
	event_base_free(base);
	receiver_stop(&rx);
}
END_TEST

/* Frees the client from inside a callback: the rest are dropped, nothing breaks. */
struct free_ctx {
	struct http_client *c;
	int calls;
	struct event_base *base;
};

static void on_done_free(const struct http_response *res, void *arg)
{
	struct free_ctx *f = arg;

	(void)res;
	f->calls++;
	http_client_free(f->c);
	event_base_loopbreak(f->base);
}

START_TEST(test_free_from_a_callback)
{
	struct receiver rx;
	struct event_base *base = event_base_new();
	struct free_ctx f = { .base = base };
	struct timeval shortly = { 0, 200000 };
	struct http_request r;
	struct error err;

	receiver_start(&rx, NULL);
	r = post(rx.url, "{}");
	ck_assert_int_eq(http_client_new(base, &f.c, &err), 0);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(http_post(f.c, &r, on_done_free, &f, NULL, &err), 0);
	event_base_dispatch(base);
	ck_assert_int_eq(f.calls, 1);
	event_base_loopexit(base, &shortly);
	event_base_dispatch(base);
	ck_assert_int_eq(f.calls, 1);
	event_base_free(base);
	receiver_stop(&rx);
}
END_TEST

START_TEST(test_plain_http_refused_unless_allowed)
{
	struct receiver rx;
	struct event_base *base = event_base_new();
	struct http_client *c = NULL;
	int pending = 1;
	struct outcome o = { .base = base, .pending = &pending };
	struct http_request r;
	struct error err;

	receiver_start(&rx, NULL);
	r = post(rx.url, "{}");
	r.allow_http = false;
	ck_assert_int_eq(http_client_new(base, &c, &err), 0);
	ck_assert_int_eq(http_post(c, &r, on_done, &o, NULL, &err), 0);
	event_base_dispatch(base);
	ck_assert_int_eq(o.calls, 1);
	ck_assert_int_eq(o.error, -EPROTONOSUPPORT);
	ck_assert_msg(strstr(o.message, "allow_http") != NULL, "%s", o.message);
	http_client_free(c);
	event_base_free(base);
	receiver_stop(&rx);
}
END_TEST

START_TEST(test_redirect_is_an_answer_by_default)
{
	static const char *const args[] = { "--status", "302", NULL };
	struct receiver rx;
	struct event_base *base = event_base_new();
	struct http_client *c = NULL;
	int pending = 1;
	struct outcome o = { .base = base, .pending = &pending };
	struct http_request r;
	struct error err;

	receiver_start(&rx, args);
	r = post(rx.url, "{}");
	ck_assert_int_eq(http_client_new(base, &c, &err), 0);
	ck_assert_int_eq(http_post(c, &r, on_done, &o, NULL, &err), 0);
	event_base_dispatch(base);
	ck_assert_int_eq(o.error, 0);
	ck_assert_int_eq(o.status, 302);
	http_client_free(c);
	event_base_free(base);
	receiver_stop(&rx);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_post_reaches_the_receiver);
	tcase_add_test(tc, test_many_at_once);
	tcase_add_test(tc, test_timeout_without_blocking_the_loop);
	tcase_add_test(tc, test_cancel_and_free_in_flight);
	tcase_add_test(tc, test_free_from_a_callback);
	tcase_add_test(tc, test_plain_http_refused_unless_allowed);
	tcase_add_test(tc, test_redirect_is_an_answer_by_default);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(http_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
