/* HTTP client on libcurl's multi-socket API: libevent drives the sockets and one timer. */
#include "http.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "version.h"

#define HTTP_MAX_HEADERS 100
#define HTTP_MAX_REDIRECTS 5

struct http_client {
	struct event_base *base;
	CURLM *multi;
	struct event *timer; /* the one timer libcurl asks for */
	struct http_call *calls; /* in flight, doubly linked */
	size_t n_calls;
	int dispatching;   /* > 0 while done callbacks run */
	bool free_pending; /* http_client_free() was called from a callback */
};

struct http_call {
	struct http_client *c;
	struct http_call *prev, *next;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	size_t body_len;
	char *url_path; /* the URL from its path on: what must never reach a message */
	http_done_fn done;
	void *arg;
	struct http_response res;
	size_t cap_headers;
	bool in_done; /* its done callback is running: cancelling it is a no-op */
	char errbuf[CURL_ERROR_SIZE];
};

/* Per-socket state handed to libcurl with curl_multi_assign(). */
struct http_socket {
	struct http_client *c;
	curl_socket_t fd;
	struct event *ev;
	int what;
};

static bool http_curl_ready;

/* ------------------------------------------------------------ responses */

static void http_response_reset_headers(struct http_response *r)
{
	for (size_t i = 0; i < r->n_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	r->n_headers = 0;
}

static void http_response_done(struct http_response *r)
{
	http_response_reset_headers(r);
	free(r->headers);
	free(r->body);
}

const char *http_response_header(const struct http_response *res, const char *name)
{
	for (size_t i = res->n_headers; i-- > 0;)
		if (strcasecmp(res->headers[i].name, name) == 0)
			return res->headers[i].value;
	return NULL;
}

int http_retry_after(const struct http_response *res, time_t now)
{
	const char *v = http_response_header(res, "Retry-After");
	struct tm tm;
	const char *end;
	long long secs;

	if (!v)
		return -1;
	if (*v >= '0' && *v <= '9') {
		char *e;

		errno = 0;
		secs = strtoll(v, &e, 10);
		if (errno || *e)
			return -1;
	} else {
		/* IMF-fixdate, the only form senders may use (RFC 9110 5.6.7). */
		memset(&tm, 0, sizeof(tm));
		end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		if (!end || *end)
			return -1;
		secs = (long long)timegm(&tm) - (long long)now;
	}
	if (secs < 0)
		secs = 0;
	if (secs > 86400)
		secs = 86400;
	return (int)secs;
}

/* ------------------------------------------------------------ curl callbacks */

static size_t http_write_cb(char *data, size_t size, size_t n, void *userp)
{
	struct http_call *call = userp;
	struct http_response *r = &call->res;
	size_t len = size * n, room = HTTP_BODY_MAX - r->body_len;

	if (len > room) {
		r->body_truncated = true;
		len = room;
	}
	if (len) {
		memcpy(r->body + r->body_len, data, len);
		r->body_len += len;
		r->body[r->body_len] = '\0';
	}
	return size * n;
}

static size_t http_header_cb(char *data, size_t size, size_t n, void *userp)
{
	struct http_call *call = userp;
	struct http_response *r = &call->res;
	size_t len = size * n, nlen;
	const char *colon, *v, *end = data + len;
	struct http_header *h;

	/* A status line starts a new response (after a redirect or a 1xx):
	 * only the final response's headers count. */
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		http_response_reset_headers(r);
		return len;
	}
	while (end > data && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	colon = memchr(data, ':', (size_t)(end - data));
	if (!colon || colon == data || r->n_headers == HTTP_MAX_HEADERS)
		return len;
	nlen = (size_t)(colon - data);
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	if (r->n_headers == call->cap_headers) {
		size_t cap = call->cap_headers ? call->cap_headers * 2 : 16;
		struct http_header *nh = realloc(r->headers, cap * sizeof(*nh));

		if (!nh)
			return 0; /* makes curl fail the transfer with a write error */
		r->headers = nh;
		call->cap_headers = cap;
	}
	h = &r->headers[r->n_headers];
	h->name = strndup(data, nlen);
	h->value = strndup(v, (size_t)(end - v));
	if (!h->name || !h->value) {
		free(h->name);
		free(h->value);
		return 0;
	}
	r->n_headers++;
	return len;
}

static void http_socket_event_cb(evutil_socket_t fd, short what, void *arg);

static int http_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_client *c = userp;
	struct http_socket *s = socketp;
	short events;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			event_free(s->ev);
			free(s);
			curl_multi_assign(c->multi, fd, NULL);
		}
		return 0;
	}
	events = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
		 ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->c = c;
		s->fd = fd;
		curl_multi_assign(c->multi, fd, s);
	} else if (s->what == what) {
		return 0;
	} else {
		event_free(s->ev);
		s->ev = NULL;
	}
	s->what = what;
	s->ev = event_new(c->base, fd, events, http_socket_event_cb, c);
	if (!s->ev || event_add(s->ev, NULL) < 0)
		return -1;
	return 0;
}

static int http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *c = userp;
	struct timeval tv;

	(void)multi;
	/* libcurl may not be called from here: the timer only schedules. */
	if (timeout_ms < 0) {
		evtimer_del(c->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(c->timer, &tv) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ calls */

static void http_call_unlink(struct http_call *call)
{
	struct http_client *c = call->c;

	if (call->prev)
		call->prev->next = call->next;
	else if (c->calls == call)
		c->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
	c->n_calls--;
}

static void http_call_free(struct http_call *call)
{
	if (!call)
		return;
	if (call->easy) {
		if (call->c)
			curl_multi_remove_handle(call->c->multi, call->easy);
		curl_easy_cleanup(call->easy);
	}
	/* Headers and body can carry secrets (signatures, routing keys, tokens). */
	for (struct curl_slist *l = call->headers; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(call->headers);
	if (call->body) {
		explicit_bzero(call->body, call->body_len);
		free(call->body);
	}
	if (call->url_path) {
		explicit_bzero(call->url_path, strlen(call->url_path));
		free(call->url_path);
	}
	http_response_done(&call->res);
	free(call);
}

/* libcurl's error words, unless they quote any part of the URL's path. */
static void http_set_message(struct http_call *call, CURLcode code)
{
	const char *text = call->errbuf[0] ? call->errbuf : curl_easy_strerror(code);

	if (call->url_path && strlen(call->url_path) > 1 && strstr(text, call->url_path))
		text = curl_easy_strerror(code);
	switch (code) {
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(call->res.message, sizeof(call->res.message),
			 "URL scheme not allowed (https only unless allow_http = true)");
		return;
	case CURLE_TOO_MANY_REDIRECTS:
		snprintf(call->res.message, sizeof(call->res.message),
			 "more than %d redirects", HTTP_MAX_REDIRECTS);
		return;
	default:
		break;
	}
	snprintf(call->res.message, sizeof(call->res.message), "%s", text);
	/* One line, whatever libcurl said. */
	for (char *p = call->res.message; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
}

static int http_error_from_curl(CURLcode code)
{
	switch (code) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EPROTONOSUPPORT;
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	case CURLE_TOO_MANY_REDIRECTS:
		return -ELOOP;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return -EPROTO;
	default:
		return -EIO;
	}
}

static void http_client_destroy(struct http_client *c);

/* Hands every finished transfer to its callback. */
static void http_check_done(struct http_client *c)
{
	CURLMsg *msg;
	int left;

	c->dispatching++;
	while (!c->free_pending && (msg = curl_multi_info_read(c->multi, &left))) {
		struct http_call *call = NULL;
		CURL *easy = msg->easy_handle;
		CURLcode code = msg->data.result;
		long status = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&call);
		if (!call)
			continue;
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		curl_multi_remove_handle(c->multi, easy);
		http_call_unlink(call);
		call->res.status = status;
		call->res.error = http_error_from_curl(code);
		if (code != CURLE_OK)
			http_set_message(call, code);
		/* Detached from the client: freeing it cannot touch the multi handle. */
		call->c = NULL;
		call->in_done = true;
		call->done(&call->res, call->arg);
		http_call_free(call);
	}
	c->dispatching--;
	if (c->dispatching == 0 && c->free_pending)
		http_client_destroy(c);
}

static void http_socket_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_client *c = arg;
	int flags = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
		    ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(c->multi, fd, flags, &running);
	http_check_done(c);
}

static void http_timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_client *c = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done(c);
}

/* ------------------------------------------------------------ public */

int http_client_new(struct event_base *base, struct http_client **ret, struct error *err)
{
	struct http_client *c;

	if (!http_curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return error_set(err, -EIO, "libcurl: global initialisation failed");
		http_curl_ready = true;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return error_set(err, -ENOMEM, "out of memory");
	c->base = base;
	c->multi = curl_multi_init();
	c->timer = evtimer_new(base, http_timer_event_cb, c);
	if (!c->multi || !c->timer) {
		http_client_destroy(c);
		return error_set(err, -ENOMEM, "libcurl: cannot create a multi handle");
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	*ret = c;
	return 0;
}

static void http_client_destroy(struct http_client *c)
{
	while (c->calls) {
		struct http_call *call = c->calls;

		http_call_unlink(call);
		http_call_free(call);
	}
	/* Removing the handles made libcurl release its sockets (CURL_POLL_REMOVE);
	 * cleanup closes pooled connections and releases the rest. */
	if (c->multi)
		curl_multi_cleanup(c->multi);
	if (c->timer)
		event_free(c->timer);
	free(c);
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	if (c->dispatching) {
		c->free_pending = true;
		return;
	}
	http_client_destroy(c);
}

size_t http_client_active(const struct http_client *c)
{
	return c->n_calls;
}

/* The part of the URL from its path on ("/services/T000/B000/XXXX"), or NULL. */
static char *http_url_path(const char *url)
{
	const char *p = strstr(url, "://");

	p = p ? strchr(p + 3, '/') : NULL;
	return p ? strdup(p) : NULL;
}

#define HTTP_SETOPT(easy, opt, val)                                    \
	do {                                                           \
		if (curl_easy_setopt((easy), (opt), (val)) != CURLE_OK) \
			goto setup_failed;                             \
	} while (0)

int http_post(struct http_client *c, const struct http_request *req, http_done_fn done,
	      void *arg, struct http_call **ret_call, struct error *err)
{
	const char *protocols = req->allow_http ? "http,https" : "https";
	struct http_call *call;
	CURLMcode mc;

	if (c->free_pending)
		return error_set(err, -ECANCELED, "HTTP client is shutting down");
	call = calloc(1, sizeof(*call));
	if (!call)
		return error_set(err, -ENOMEM, "out of memory");
	call->done = done;
	call->arg = arg;
	call->res.body = malloc(HTTP_BODY_MAX + 1);
	call->body = malloc(req->body_len ? req->body_len : 1);
	call->url_path = http_url_path(req->url);
	call->easy = curl_easy_init();
	if (!call->res.body || !call->body || !call->easy)
		goto nomem;
	call->res.body[0] = '\0';
	if (req->body_len)
		memcpy(call->body, req->body, req->body_len);
	call->body_len = req->body_len;
	for (size_t i = 0; i < req->n_headers; i++) {
		struct curl_slist *l = curl_slist_append(call->headers, req->headers[i]);

		if (!l)
			goto nomem;
		call->headers = l;
	}
	{
		/* libcurl would add "Expect: 100-continue" to larger bodies and wait
		 * for the interim answer; receivers differ in handling it. */
		struct curl_slist *l = curl_slist_append(call->headers, "Expect:");

		if (!l)
			goto nomem;
		call->headers = l;
	}

	HTTP_SETOPT(call->easy, CURLOPT_URL, req->url);
	HTTP_SETOPT(call->easy, CURLOPT_PROTOCOLS_STR, protocols);
	HTTP_SETOPT(call->easy, CURLOPT_NOSIGNAL, 1L);
	HTTP_SETOPT(call->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	HTTP_SETOPT(call->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file)
		HTTP_SETOPT(call->easy, CURLOPT_CAINFO, req->ca_file);
	HTTP_SETOPT(call->easy, CURLOPT_CONNECTTIMEOUT_MS,
		    req->connect_timeout_ms > 0 ? req->connect_timeout_ms
						: (long)HTTP_DEFAULT_CONNECT_TIMEOUT_MS);
	HTTP_SETOPT(call->easy, CURLOPT_TIMEOUT_MS,
		    req->timeout_ms > 0 ? req->timeout_ms : (long)HTTP_DEFAULT_TIMEOUT_MS);
	if (req->follow_redirects) {
		HTTP_SETOPT(call->easy, CURLOPT_FOLLOWLOCATION, 1L);
		HTTP_SETOPT(call->easy, CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRECTS);
		HTTP_SETOPT(call->easy, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
		/* Keep POSTing after 301/302/303 instead of turning into a GET
		 * that would drop the alert. */
		HTTP_SETOPT(call->easy, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
	} else {
		HTTP_SETOPT(call->easy, CURLOPT_FOLLOWLOCATION, 0L);
	}
	HTTP_SETOPT(call->easy, CURLOPT_USERAGENT, "schemadrift/" SCHEMADRIFT_VERSION);
	HTTP_SETOPT(call->easy, CURLOPT_POST, 1L);
	HTTP_SETOPT(call->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
	HTTP_SETOPT(call->easy, CURLOPT_POSTFIELDS, call->body);
	HTTP_SETOPT(call->easy, CURLOPT_HTTPHEADER, call->headers);
	HTTP_SETOPT(call->easy, CURLOPT_WRITEFUNCTION, http_write_cb);
	HTTP_SETOPT(call->easy, CURLOPT_WRITEDATA, call);
	HTTP_SETOPT(call->easy, CURLOPT_HEADERFUNCTION, http_header_cb);
	HTTP_SETOPT(call->easy, CURLOPT_HEADERDATA, call);
	HTTP_SETOPT(call->easy, CURLOPT_ERRORBUFFER, call->errbuf);
	HTTP_SETOPT(call->easy, CURLOPT_PRIVATE, call);

	/* Adding only schedules the timer (http_timer_cb): nothing completes,
	 * and done is never called, before this returns. */
	mc = curl_multi_add_handle(c->multi, call->easy);
	if (mc != CURLM_OK) {
		curl_easy_cleanup(call->easy);
		call->easy = NULL;
		http_call_free(call);
		return error_set(err, mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO,
				 "libcurl: %s", curl_multi_strerror(mc));
	}
	call->c = c;
	call->next = c->calls;
	if (c->calls)
		c->calls->prev = call;
	c->calls = call;
	c->n_calls++;
	if (ret_call)
		*ret_call = call;
	return 0;

setup_failed:
	http_call_free(call);
	return error_set(err, -EINVAL, "libcurl lacks a needed option (version %s)",
			 curl_version_info(CURLVERSION_NOW)->version);
nomem:
	http_call_free(call);
	return error_set(err, -ENOMEM, "out of memory");
}

void http_call_cancel(struct http_call *call)
{
	if (!call || call->in_done)
		return;
	if (call->c)
		http_call_unlink(call);
	http_call_free(call);
}
