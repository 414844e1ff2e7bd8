/* The HTTP channels' shared part: their keys, sending through lib/http.c, retry classification. */
#ifndef SCHEMADRIFT_NOTIFY_HTTP_H
#define SCHEMADRIFT_NOTIFY_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "notify.h"

struct http_response;

/* ------------------------------------------------------------------------
 * For backends: the shared part of the HTTP channels (webhook, pagerduty,
 * slack, teams, discord).
 */

/* Keys every HTTP channel takes; see docs/notifiers.md. */
struct notify_http {
	char *url; /* secret */
	bool allow_http;
	bool follow_redirects;
	long connect_timeout_ms;
	long timeout_ms;
	char *ca_file;
	long max_changes; /* changes listed in a message */
	/* private */
	const struct ini_kv *url_kv;
	char **secrets; /* redacted from every detail text */
	size_t n_secrets;
	struct notify_pending *pending; /* sends in flight */
};

/* Key parsers of the shared keys (NOTIFY_HTTP_KEYS); state is a struct notify_http. */
int notify_http_parse_url(void *state, const struct ini_kv *kv, struct error *err);
int notify_http_parse_ca_file(void *state, const struct ini_kv *kv, struct error *err);

#define NOTIFY_HTTP_STR_(x) #x
#define NOTIFY_HTTP_STR(x) NOTIFY_HTTP_STR_(x)

/*
 * The keys every HTTP channel takes, for the start of its backend's key table;
 * max_changes_default is a plain number.  Their offsets are into struct
 * notify_http, which is therefore the first member of a backend's state.
 */
#define NOTIFY_HTTP_KEYS(max_changes_default)                                                     \
	{ "url", NOTIFY_KEY_CUSTOM, 0, NULL, 0, 0, notify_http_parse_url,                        \
	  "Required (pagerduty has a default): the URL to post to, a secret; better file:PATH "  \
	  "or credential:NAME." },                                                                \
	{ "allow_http", NOTIFY_KEY_BOOL, offsetof(struct notify_http, allow_http), "false", 0, 0, \
	  NULL, "true accepts a plain http:// URL." },                                            \
	{ "follow_redirects", NOTIFY_KEY_BOOL, offsetof(struct notify_http, follow_redirects),    \
	  "false", 0, 0, NULL, "Follow redirects (at most 5); otherwise a redirect is a permanent " \
	  "failure." },                                                                           \
	{ "connect_timeout", NOTIFY_KEY_DURATION, offsetof(struct notify_http, connect_timeout_ms), \
	  "10s", 100, 300000, NULL, "Give up connecting after this long." },                      \
	{ "timeout", NOTIFY_KEY_DURATION, offsetof(struct notify_http, timeout_ms), "30s", 100,   \
	  3600000, NULL, "Give up on a request after this long." },                               \
	{ "ca_file", NOTIFY_KEY_CUSTOM, 0, NULL, 0, 0, notify_http_parse_ca_file,                 \
	  "A PEM file of CA certificates to trust instead of the system's store." },              \
	{ "max_changes", NOTIFY_KEY_INT, offsetof(struct notify_http, max_changes),               \
	  NOTIFY_HTTP_STR(max_changes_default), 1, ALERT_MAX_CHANGES, NULL,                       \
	  "At most this many changes are listed in one message." }

/* After the keys: the URL is required unless default_url, and its scheme is
 * checked (https://, or http:// with allow_http). */
int notify_http_check(struct notify_http *h, const struct notify_channel *ch,
		      const struct ini_section *s, const char *default_url, struct error *err);
/* Never shown in any detail text (the URL and its path are already). */
int notify_http_add_secret(struct notify_http *h, const char *secret);
/* Drops sends in flight (no callbacks) and frees h's contents. */
void notify_http_done(struct notify_http *h);

/*
 * The whole backend for channels whose only state is the shared HTTP part
 * and whose payload is their render() posted as is (slack, teams, discord):
 * ch->state is a struct notify_http.
 */
int notify_http_channel_configure(struct notify_channel *ch, const struct ini_section *s,
				  struct error *err);
void notify_http_channel_destroy(struct notify_channel *ch);
int notify_http_channel_send(struct notify_channel *ch, const struct alert *a,
			     notify_done_fn done, void *arg);

/* POSTs body with the given extra headers ("Name: value"; Content-Type is
 * application/json unless given); done gets the classified result. */
int notify_http_post(struct notify_channel *ch, struct notify_http *h, const char *body,
		     size_t body_len, const char *const *headers, size_t n_headers,
		     notify_done_fn done, void *arg);
/* Reports res through done from the event loop (a send that failed before
 * reaching the network).  -ENOMEM if it cannot be scheduled. */
int notify_http_defer(struct notify_channel *ch, struct notify_http *h,
		      const struct notify_result *res, notify_done_fn done, void *arg);

/* The retry classification (docs/notifiers.md): 2xx delivered; no answer,
 * timeout, 408, 429, 5xx retry; scheme refused, bad URL, too many redirects,
 * other 3xx and 4xx failed.  secrets are redacted from the detail. */
void notify_http_classify(const struct http_response *res, const char *const *secrets,
			  size_t n_secrets, struct notify_result *ret);

#endif
