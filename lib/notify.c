/* Notifier registry, channel lifetime, and what the HTTP channels share (keys, sending, retry classification). */
#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "utf8.h"

/* Adding a channel: a lib/notify_<type>.c defining notify_<type>_backend, and one row here. */
static const struct notify_backend *const notify_backends[] = {
	&notify_webhook_backend, &notify_pagerduty_backend, &notify_slack_backend,
	&notify_teams_backend,	 &notify_discord_backend,   &notify_smtp_backend,
};

#define NOTIFY_N_BACKENDS (sizeof(notify_backends) / sizeof(notify_backends[0]))

/* Body text quoted in a result's detail. */
#define NOTIFY_DETAIL_BODY_MAX 200

const struct notify_backend *notify_backend_find(const char *type)
{
	for (size_t i = 0; i < NOTIFY_N_BACKENDS; i++)
		if (strcmp(notify_backends[i]->name, type) == 0)
			return notify_backends[i];
	return NULL;
}

void notify_backend_names(char *buf, size_t size)
{
	size_t n = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < NOTIFY_N_BACKENDS && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
				      notify_backends[i]->name);
}

int notify_channel_new(struct notify_env *env, const struct ini_section *s,
		       struct notify_channel **ret, struct error *err)
{
	const struct notify_backend *b;
	const struct ini_kv *type;
	struct notify_channel *ch;
	char names[128];
	int r;

	if (strcmp(s->kind, "notifier") != 0 || !s->name)
		return ini_section_error(s, err, -EINVAL, "not a [notifier NAME] section");
	notify_backend_names(names, sizeof(names));
	type = ini_get(s, "type");
	if (!type)
		return ini_section_error(s, err, -EINVAL, "needs type = (one of %s)", names);
	b = notify_backend_find(type->value);
	if (!b)
		return ini_error(type, err, -EINVAL, "unknown notifier type '%.40s' (one of %s)",
				  type->value, names);
	ch = calloc(1, sizeof(*ch));
	if (!ch || !(ch->name = strdup(s->name))) {
		free(ch);
		return error_set(err, -ENOMEM, "out of memory");
	}
	ch->backend = b;
	ch->env = env;
	r = b->configure(ch, s, err);
	if (r < 0) {
		notify_channel_free(ch);
		return r;
	}
	*ret = ch;
	return 0;
}

void notify_channel_free(struct notify_channel *ch)
{
	if (!ch)
		return;
	if (ch->backend && ch->backend->destroy)
		ch->backend->destroy(ch);
	free(ch->name);
	free(ch);
}

int notify_render_type(const char *type, const struct alert *a, char **ret_body,
		       struct error *err)
{
	const struct notify_backend *b = notify_backend_find(type);
	struct notify_channel ch = { .backend = b, .name = (char *)"render" };
	char names[128];

	if (!b) {
		notify_backend_names(names, sizeof(names));
		return error_set(err, -EINVAL, "unknown channel type '%.40s' (one of %s)", type,
				 names);
	}
	return b->render(&ch, a, ret_body, err);
}

/* ------------------------------------------------------------ text helpers */

void notify_buf_put(struct notify_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *ns;

		while (cap < b->len + n + 1)
			cap *= 2;
		ns = realloc(b->s, cap);
		if (!ns) {
			b->failed = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void notify_buf_puts(struct notify_buf *b, const char *s)
{
	notify_buf_put(b, s, strlen(s));
}

void notify_buf_printf(struct notify_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	notify_buf_put(b, s, (size_t)n);
	free(s);
}

char *notify_buf_take(struct notify_buf *b)
{
	char *s = b->failed ? NULL : b->s ? b->s : strdup("");

	if (b->failed)
		free(b->s);
	memset(b, 0, sizeof(*b));
	return s;
}

void notify_buf_done(struct notify_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

bool notify_id_is_token(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > 100)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static size_t notify_piece_units(const char *piece, size_t len)
{
	size_t u = 0;

	for (size_t i = 0; i < len;) {
		size_t cl = utf8_char_len((const unsigned char *)piece + i);

		if (cl == 0 || cl > len - i)
			cl = 1;
		u += cl == 4 ? 2 : 1;
		i += cl;
	}
	return u;
}

void notify_escape_cut(struct notify_buf *b, const char *s, size_t max, notify_escape_fn fn)
{
	size_t total = 0, units = 0, len, adv;
	const char *p, *piece;

	for (p = s; *p; p += adv) {
		piece = fn(p, &len, &adv);
		total += notify_piece_units(piece, len);
	}
	for (p = s; *p; p += adv) {
		size_t u;

		piece = fn(p, &len, &adv);
		u = notify_piece_units(piece, len);
		if (total > max && units + u + 1 > max) {
			notify_buf_puts(b, "\xe2\x80\xa6");
			return;
		}
		notify_buf_put(b, piece, len);
		units += u;
	}
}

char *notify_title(const struct alert *a)
{
	const char *prefix;
	char *out;
	int r;

	switch (a->kind) {
	case ALERT_DRIFT:
		prefix = "Schema drift on ";
		break;
	case ALERT_CHECK:
		prefix = "Check failed on ";
		break;
	case ALERT_ERROR:
		prefix = "Cannot monitor ";
		break;
	case ALERT_RECOVERED:
		prefix = "Recovered: ";
		break;
	case ALERT_UPGRADED:
		prefix = "Server upgraded on ";
		break;
	case ALERT_TEST:
	default:
		prefix = a->target ? "Test alert from schemadrift for " : "Test alert from schemadrift";
		break;
	}
	if (a->target && a->environment)
		r = asprintf(&out, "%s%s (%s)", prefix, a->target, a->environment);
	else
		r = asprintf(&out, "%s%s", prefix, a->target ? a->target : "");
	return r < 0 ? NULL : out;
}

size_t notify_text_units(const char *s)
{
	size_t units = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t cl = utf8_char_len(p);

		if (cl == 0)
			cl = 1;
		units += cl == 4 ? 2 : 1;
		p += cl;
	}
	return units;
}

char *notify_truncate(const char *s, size_t max_units)
{
	static const char ellipsis[] = "\xe2\x80\xa6";
	size_t units = 0, keep = 0;
	const unsigned char *p = (const unsigned char *)s;
	char *out;

	if (notify_text_units(s) <= max_units)
		return strdup(s);
	while (*p) {
		size_t cl = utf8_char_len(p), u;

		if (cl == 0)
			cl = 1;
		u = cl == 4 ? 2 : 1;
		if (units + u + 1 > max_units)
			break;
		units += u;
		p += cl;
	}
	keep = (size_t)((const char *)p - s);
	out = malloc(keep + sizeof(ellipsis));
	if (!out)
		return NULL;
	memcpy(out, s, keep);
	memcpy(out + keep, max_units ? ellipsis : "", max_units ? sizeof(ellipsis) : 1);
	return out;
}

void notify_kind_label(const char *kind, char *buf, size_t size)
{
	snprintf(buf, size, "%s", kind ? kind : "object");
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = ' ';
}

bool notify_change_is_long(const struct alert_change *c, size_t max_units)
{
	if (!c->before || !c->after)
		return false;
	return strchr(c->before, '\n') || strchr(c->after, '\n') ||
	       notify_text_units(c->before) > max_units || notify_text_units(c->after) > max_units;
}

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

void notify_http_init(struct notify_http *h, long max_changes)
{
	memset(h, 0, sizeof(*h));
	h->connect_timeout_ms = HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
	h->timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
	h->max_changes = max_changes;
}

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

static void notify_free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int notify_http_key(struct notify_http *h, const struct ini_kv *kv, struct error *err)
{
	long long v;
	int r;

	if (strcmp(kv->key, "type") == 0)
		return 1;
	if (strcmp(kv->key, "url") == 0) {
		char *url;

		r = ini_secret(kv, &url, err);
		if (r < 0)
			return r;
		notify_free_secret(h->url);
		h->url = url;
		h->url_kv = kv;
		return 1;
	}
	if (strcmp(kv->key, "allow_http") == 0)
		return (r = ini_bool(kv, &h->allow_http, err)) < 0 ? r : 1;
	if (strcmp(kv->key, "follow_redirects") == 0)
		return (r = ini_bool(kv, &h->follow_redirects, err)) < 0 ? r : 1;
	if (strcmp(kv->key, "connect_timeout") == 0) {
		r = ini_duration_ms(kv, 100, 300000, &v, err);
		if (r < 0)
			return r;
		h->connect_timeout_ms = (long)v;
		return 1;
	}
	if (strcmp(kv->key, "timeout") == 0) {
		r = ini_duration_ms(kv, 100, 3600000, &v, err);
		if (r < 0)
			return r;
		h->timeout_ms = (long)v;
		return 1;
	}
	if (strcmp(kv->key, "ca_file") == 0) {
		char *path = ini_path(kv);

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
		return 1;
	}
	if (strcmp(kv->key, "max_changes") == 0) {
		r = ini_int(kv, 1, ALERT_MAX_CHANGES, &v, err);
		if (r < 0)
			return r;
		h->max_changes = (long)v;
		return 1;
	}
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
	notify_free_secret(h->url);
	free(h->ca_file);
	for (size_t i = 0; i < h->n_secrets; i++)
		notify_free_secret(h->secrets[i]);
	free(h->secrets);
	memset(h, 0, sizeof(*h));
}

/* s with every occurrence of every secret replaced by "[redacted]"; malloc'd, NULL on ENOMEM.
 * Done on whole texts before they are cut, so no part of a secret can survive a cut. */
static char *notify_redacted(const char *s, const char *const *secrets, size_t n)
{
	struct notify_buf b = { 0 };
	char *cur = strdup(s);

	for (size_t i = 0; cur && i < n; i++) {
		size_t sl = strlen(secrets[i]);
		const char *p = cur, *hit;

		if (sl < 4 || !strstr(cur, secrets[i]))
			continue;
		/* Searching goes on after each replacement, never into it. */
		while ((hit = strstr(p, secrets[i]))) {
			notify_buf_put(&b, p, (size_t)(hit - p));
			notify_buf_puts(&b, "[redacted]");
			p = hit + sl;
		}
		notify_buf_puts(&b, p);
		free(cur);
		cur = notify_buf_take(&b);
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

void notify_classify_http(const struct http_response *res, const char *const *secrets,
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

	notify_classify_http(res, (const char *const *)p->h->secrets, p->h->n_secrets, &result);
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
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ch = ch;
	p->done = done;
	p->arg = arg;
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
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ch = ch;
	p->done = done;
	p->arg = arg;
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
				  long default_max_changes, struct error *err)
{
	struct notify_http *h = calloc(1, sizeof(*h));
	int r = 0;

	if (!h)
		return error_set(err, -ENOMEM, "out of memory");
	notify_http_init(h, default_max_changes);
	ch->state = h;
	for (size_t i = 0; i < s->n_kv && r >= 0; i++) {
		r = notify_http_key(h, &s->kv[i], err);
		if (r == 0)
			r = ini_error(&s->kv[i], err, -EINVAL, "unknown key for a %s notifier",
				       ch->backend->name);
	}
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
