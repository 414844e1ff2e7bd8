/* HTTP client: libcurl's multi-socket interface driven by a libevent base (never blocks it). */
#ifndef SCHEMADRIFT_HTTP_H
#define SCHEMADRIFT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <event2/event.h>

#include "error.h"

/* At most this much of a response body is kept (the rest is read and dropped). */
#define HTTP_BODY_MAX (64 * 1024)
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define HTTP_DEFAULT_TIMEOUT_MS 30000

struct http_client;
struct http_call;

/*
 * One POST.  The URL may carry a secret (Slack, Teams and Discord webhook
 * URLs do), so it never appears in any message this module produces.  TLS
 * peer and host verification are always on.  Everything is copied by
 * http_post(); the request may be freed as soon as it returns.
 */
struct http_request {
	const char *url;
	const char *const *headers; /* "Name: value", n_headers of them */
	size_t n_headers;
	const char *body;
	size_t body_len;
	bool allow_http;       /* plain http:// allowed (otherwise https only) */
	bool follow_redirects; /* at most 5, same protocols; otherwise a 3xx is the answer */
	long connect_timeout_ms; /* 0: HTTP_DEFAULT_CONNECT_TIMEOUT_MS */
	long timeout_ms;         /* whole transfer; 0: HTTP_DEFAULT_TIMEOUT_MS */
	const char *ca_file;     /* PEM bundle to trust instead of the system's; NULL: system */
};

struct http_header {
	char *name;
	char *value;
};

struct http_response {
	/* 0 when an HTTP answer arrived (whatever its status); otherwise
	 * -ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH (name or route), -EPROTO (TLS),
	 * -EPROTONOSUPPORT (scheme not allowed), -EINVAL (bad URL), -ELOOP (too many
	 * redirects), -ENOMEM or -EIO. */
	int error;
	long status;  /* the final HTTP status, 0 without an answer */
	char *body;   /* NUL-terminated, at most HTTP_BODY_MAX bytes; never NULL */
	size_t body_len;
	bool body_truncated;
	struct http_header *headers; /* of the final response */
	size_t n_headers;
	char message[256]; /* what went wrong (libcurl's words), never the URL; "" if fine */
};

/* Called once per call, from the event loop, never from inside http_post().  The
 * response is valid only during the call.  May start or cancel other calls. */
typedef void (*http_done_fn)(const struct http_response *res, void *arg);

int http_client_new(struct event_base *base, struct http_client **ret, struct error *err);
/* Aborts every call in flight without calling their done callbacks.  Allowed
 * from inside a done callback (the free then happens when it returns). */
void http_client_free(struct http_client *c);
/* Calls started and not yet finished. */
size_t http_client_active(const struct http_client *c);

/* Starts a POST.  *ret_call (may be NULL) stays valid until done is called or
 * the call is cancelled.  Errors only for setup failures (-ENOMEM, -EINVAL). */
int http_post(struct http_client *c, const struct http_request *req, http_done_fn done,
	      void *arg, struct http_call **ret_call, struct error *err);
/* Stops a call; its done callback is not called. */
void http_call_cancel(struct http_call *call);

/* The last header called name (case-insensitive), or NULL. */
const char *http_response_header(const struct http_response *res, const char *name);
/* Retry-After as seconds from now (delta-seconds or an HTTP date), clamped to
 * [0, 86400]; -1 when absent or unreadable. */
int http_retry_after(const struct http_response *res, time_t now);

#endif
