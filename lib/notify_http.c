/* What the HTTP channels share: their keys, sending through lib/http.c, retry classification. */
#include "notify_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "utf8.h"

/* Body text quoted in a result's detail. */
#define NOTIFY_DETAIL_BODY_MAX 200

/* ------------------------------------------------------------ HTTP channels */

struct notify_pending {
	struct notify_pending *prev, *next;
	struct notify_http *h;
	struct notify_channel *ch;
	struct http_call *call; /* an HTTP send, or */
	struct event *ev;       /* a deferred result */
	struct notify_result res;
	notify_done_fn done;
	void *arg;
};

int notify_http_add_secret(struct notify_http *h, const char *secret)
{
	char **ns;

	/* Very short strings would redact ordinary words: nobody's secret is 3 bytes. */
	if (!secret || strlen(secret) < 4)
		return 0;
	ns = realloc(h->secrets, (h->n_secrets + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	h->secrets = ns;
	h->secrets[h->n_secrets] = strdup(secret);
	if (!h->secrets[h->n_secrets])
		return -ENOMEM;
	h->n_secrets++;
	return 0;
}

int notify_http_parse_url(void *state, const struct ini_kv *kv, struct error *err)
{
	struct notify_http *h = state;
	char *url;
	int r = ini_secret(kv, &url, err);

	if (r < 0)
		return r;
	ini_secret_free(h->url);
	h->url = url;
	h->url_kv = kv;
	return 0;
}

int notify_http_parse_ca_file(void *state, const struct ini_kv *kv, struct error *err)
{
	struct notify_http *h = state;
	char *path = ini_path(kv);
	int r;

	if (!path)
		return ini_error(kv, err, -ENOMEM, "out of memory");
	if (!kv->value[0] || access(path, R_OK) < 0) {
		r = ini_error(kv, err, kv->value[0] ? -errno : -EINVAL, "%s: %s", path,
			       kv->value[0] ? strerror(errno) : "empty path");
		free(path);
		return r;
	}
	free(h->ca_file);
	h->ca_file = path;
	return 0;
}

int notify_http_check(struct notify_http *h, const struct notify_channel *ch,
		      const struct ini_section *s, const char *default_url, struct error *err)
{
	const char *path;
	bool https, http;

	if (!h->url) {
		if (!default_url)
			return ini_section_error(s, err, -EINVAL,
						  "needs url = (the webhook URL; better "
						  "file:PATH or credential:NAME, it is a secret)");
		h->url = strdup(default_url);
		if (!h->url)
			return error_set(err, -ENOMEM, "out of memory");
	}
	https = strncasecmp(h->url, "https://", 8) == 0;
	http = strncasecmp(h->url, "http://", 7) == 0;
	/* Messages name the channel and where the URL was configured, never the URL. */
	if (!https && !(http && h->allow_http)) {
		const char *why = http ? "plain http is refused (allow_http = true allows it)"
				       : "it must be an https:// URL";

		if (h->url_kv)
			return ini_error(h->url_kv, err, -EINVAL, "webhook for channel '%s': %s",
					  ch->name, why);
		return ini_section_error(s, err, -EINVAL, "webhook for channel '%s': %s",
					  ch->name, why);
	}
	for (const unsigned char *p = (const unsigned char *)h->url; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f) {
			if (h->url_kv)
				return ini_error(h->url_kv, err, -EINVAL,
						  "webhook for channel '%s': the URL contains "
						  "blanks or control characters",
						  ch->name);
			return ini_section_error(s, err, -EINVAL, "the URL contains blanks");
		}
	}
	if (h->url_kv) {
		path = strchr(h->url + (https ? 8 : 7), '/');
		if (notify_http_add_secret(h, h->url) < 0 ||
		    (path && notify_http_add_secret(h, path) < 0))
			return error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* A send in flight (not linked yet); NULL on ENOMEM. */
static struct notify_pending *notify_pending_new(struct notify_channel *ch, notify_done_fn done,
						 void *arg)
{
	struct notify_pending *p = calloc(1, sizeof(*p));

	if (p) {
		p->ch = ch;
		p->done = done;
		p->arg = arg;
	}
	return p;
}

static void notify_pending_unlink(struct notify_pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else if (p->h->pending == p)
		p->h->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
}

static void notify_pending_link(struct notify_http *h, struct notify_pending *p)
{
	p->h = h;
	p->next = h->pending;
	if (h->pending)
		h->pending->prev = p;
	h->pending = p;
}

void notify_http_done(struct notify_http *h)
{
	while (h->pending) {
		struct notify_pending *p = h->pending;

		notify_pending_unlink(p);
		http_call_cancel(p->call);
		if (p->ev)
			event_free(p->ev);
		free(p);
	}
	ini_secret_free(h->url);
	free(h->ca_file);
	for (size_t i = 0; i < h->n_secrets; i++)
		ini_secret_free(h->secrets[i]);
	free(h->secrets);
	memset(h, 0, sizeof(*h));
}

/* s with every occurrence of every secret replaced by "[redacted]"; malloc'd, NULL on ENOMEM.
 * Done on whole texts before they are cut, so no part of a secret can survive a cut. */
static char *notify_redacted(const char *s, const char *const *secrets, size_t n)
{
	struct strbuf b = { 0 };
	char *cur = strdup(s);

	for (size_t i = 0; cur && i < n; i++) {
		size_t sl = strlen(secrets[i]);
		const char *p = cur, *hit;

		if (sl < 4 || !strstr(cur, secrets[i]))
			continue;
		/* Searching goes on after each replacement, never into it. */
		while ((hit = strstr(p, secrets[i]))) {
			strbuf_put(&b, p, (size_t)(hit - p));
			strbuf_puts(&b, "[redacted]");
			p = hit + sl;
		}
		strbuf_puts(&b, p);
		free(cur);
		cur = strbuf_take(&b);
	}
	return cur;
}

/* Text as one short printable line. */
static void notify_snippet(const char *text, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n = 0, max = size - 4 < NOTIFY_DETAIL_BODY_MAX ? size - 4 : NOTIFY_DETAIL_BODY_MAX;
	bool space = false;

	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	for (; *p && n < max;) {
		size_t cl = utf8_char_len(p);

		if (cl == 0 || *p <= 0x20 || *p == 0x7f) {
			space = n > 0;
			p++;
			continue;
		}
		if (space) {
			out[n++] = ' ';
			space = false;
		}
		if (n + cl > max)
			break;
		memcpy(out + n, p, cl);
		n += cl;
		p += cl;
	}
	if (*p && n + 3 < size) {
		memcpy(out + n, "\xe2\x80\xa6", 3);
		n += 3;
	}
	out[n] = '\0';
}

/* Discord answers a 429 with {"retry_after": 1.5} and may not send the header. */
static int notify_body_retry_after(const struct http_response *res)
{
	json_t *j = json_loadb(res->body, res->body_len, 0, NULL);
	json_t *v = json_object_get(j, "retry_after");
	int secs = -1;

	if (json_is_number(v) && json_number_value(v) >= 0 && json_number_value(v) <= 86400) {
		secs = (int)json_number_value(v);
		if (secs < json_number_value(v))
			secs++; /* round up: retrying early would only be refused again */
	}
	json_decref(j);
	return secs;
}

void notify_http_classify(const struct http_response *res, const char *const *secrets,
			  size_t n_secrets, struct notify_result *ret)
{
	char body[NOTIFY_DETAIL_BODY_MAX + 8], message[sizeof(res->message) + 8];
	char *clean;
	long st = res->status;

	memset(ret, 0, sizeof(*ret));
	/* Whatever the remote side or libcurl said may quote a secret. */
	clean = notify_redacted(res->body ? res->body : "", secrets, n_secrets);
	notify_snippet(clean ? clean : "(answer not shown: out of memory)", body, sizeof(body));
	free(clean);
	clean = notify_redacted(res->message, secrets, n_secrets);
	snprintf(message, sizeof(message), "%s", clean ? clean : "");
	free(clean);
	if (res->error) {
		bool permanent = res->error == -EPROTONOSUPPORT || res->error == -EINVAL ||
				 res->error == -ELOOP;

		ret->status = permanent ? NOTIFY_FAILED : NOTIFY_RETRY;
		snprintf(ret->detail, sizeof(ret->detail), "%s: %s",
			 res->error == -ETIMEDOUT ? "no answer in time"
			 : permanent		  ? "refused"
						  : "no answer",
			 message[0] ? message : strerror(-res->error));
	} else {
		const char *why = "";
		int ra = http_retry_after(res, time(NULL));

		if (st >= 200 && st < 300) {
			ret->status = NOTIFY_DELIVERED;
		} else if (st == 408 || st == 429 || (st >= 500 && st < 600)) {
			ret->status = NOTIFY_RETRY;
			if (ra < 0 && st == 429)
				ra = notify_body_retry_after(res);
			ret->retry_after_s = ra > 0 ? ra : 0;
		} else if (st >= 300 && st < 400) {
			ret->status = NOTIFY_FAILED;
			why = " (redirect not followed; follow_redirects = true allows it)";
		} else {
			ret->status = NOTIFY_FAILED;
		}
		if (ret->retry_after_s)
			snprintf(ret->detail, sizeof(ret->detail), "HTTP %ld%s (retry after %d s)%s%s",
				 st, why, ret->retry_after_s, body[0] ? ": " : "", body);
		else
			snprintf(ret->detail, sizeof(ret->detail), "HTTP %ld%s%s%s", st, why,
				 body[0] ? ": " : "", body);
	}
}

static void notify_http_done_cb(const struct http_response *res, void *arg)
{
	struct notify_pending *p = arg;
	struct notify_result result;

	notify_http_classify(res, (const char *const *)p->h->secrets, p->h->n_secrets, &result);
	notify_pending_unlink(p);
	/* The callback may free the channel (and with it p->h): p is already unlinked. */
	p->done(p->ch, &result, p->arg);
	free(p);
}

int notify_http_post(struct notify_channel *ch, struct notify_http *h, const char *body,
		     size_t body_len, const char *const *headers, size_t n_headers,
		     notify_done_fn done, void *arg)
{
	const char *hdrs[64];
	struct http_request req = {
		.url = h->url,
		.headers = hdrs,
		.body = body,
		.body_len = body_len,
		.allow_http = h->allow_http,
		.follow_redirects = h->follow_redirects,
		.connect_timeout_ms = h->connect_timeout_ms,
		.timeout_ms = h->timeout_ms,
		.ca_file = h->ca_file,
	};
	struct notify_pending *p;
	bool has_type = false;
	int r;

	if (!ch->env || !ch->env->http || !h->url)
		return -EINVAL;
	if (n_headers > sizeof(hdrs) / sizeof(hdrs[0]) - 1)
		return -E2BIG;
	for (size_t i = 0; i < n_headers; i++) {
		hdrs[i] = headers[i];
		if (strncasecmp(headers[i], "Content-Type:", 13) == 0)
			has_type = true;
	}
	req.n_headers = n_headers;
	if (!has_type)
		hdrs[req.n_headers++] = "Content-Type: application/json";
	p = notify_pending_new(ch, done, arg);
	if (!p)
		return -ENOMEM;
	p->h = h;
	r = http_post(ch->env->http, &req, notify_http_done_cb, p, &p->call, NULL);
	if (r < 0) {
		free(p);
		return r;
	}
	notify_pending_link(h, p);
	return 0;
}

static void notify_deferred_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify_pending *p = arg;

	(void)fd;
	(void)what;
	notify_pending_unlink(p);
	event_free(p->ev);
	p->done(p->ch, &p->res, p->arg);
	free(p);
}

int notify_http_defer(struct notify_channel *ch, struct notify_http *h,
		      const struct notify_result *res, notify_done_fn done, void *arg)
{
	static const struct timeval now = { 0, 0 };
	struct notify_pending *p;

	if (!ch->env || !ch->env->base)
		return -EINVAL;
	p = notify_pending_new(ch, done, arg);
	if (!p)
		return -ENOMEM;
	p->res = *res;
	p->ev = evtimer_new(ch->env->base, notify_deferred_cb, p);
	if (!p->ev || evtimer_add(p->ev, &now) < 0) {
		if (p->ev)
			event_free(p->ev);
		free(p);
		return -ENOMEM;
	}
	notify_pending_link(h, p);
	return 0;
}

void notify_http_channel_destroy(struct notify_channel *ch)
{
	struct notify_http *h = ch->state;

	if (!h)
		return;
	notify_http_done(h);
	free(h);
	ch->state = NULL;
}

int notify_http_channel_configure(struct notify_channel *ch, const struct ini_section *s,
				  struct error *err)
{
	struct notify_http *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return error_set(err, -ENOMEM, "out of memory");
	ch->state = h;
	r = notify_keys_apply(ch->backend, h, s, err);
	if (r >= 0)
		r = notify_http_check(h, ch, s, NULL, err);
	if (r < 0) {
		notify_http_channel_destroy(ch);
		return r;
	}
	return 0;
}

int notify_http_channel_send(struct notify_channel *ch, const struct alert *a,
			     notify_done_fn done, void *arg)
{
	struct notify_http *h = ch->state;
	struct error err;
	char *body;
	int r;

	if (!h)
		return -EINVAL;
	r = ch->backend->render(ch, a, &body, &err);
	if (r < 0)
		return r;
	r = notify_http_post(ch, h, body, strlen(body), NULL, 0, done, arg);
	free(body);
	return r;
}
