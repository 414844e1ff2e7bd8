/* PagerDuty channel: Events API v2 trigger/resolve, dedup_key from the alert's drift or error state. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "notify.h"
#include "isotime.h"
#include "notify_http.h"

#define PAGERDUTY_DEFAULT_URL "https://events.pagerduty.com/v2/enqueue"
#define PAGERDUTY_DEFAULT_MAX_CHANGES 20
/* Events API v2 limits: summary 1024 characters, dedup_key 255. */
#define PAGERDUTY_SUMMARY_MAX 1024
#define PAGERDUTY_DEDUP_MAX 255
/* Stands in for the routing key in rendered payloads (it is a secret). */
#define PAGERDUTY_KEY_PLACEHOLDER "<routing_key>"

struct pagerduty_state {
	struct notify_http http; /* first: the shared HTTP part */
	char *routing_key;       /* secret */
};

static int jset(json_t *o, const char *key, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

/* PagerDuty severities: critical, error, warning, info. */
static const char *pagerduty_severity(const struct alert *a)
{
	if (a->kind == ALERT_ERROR)
		return "error";
	switch (a->severity) {
	case DIFF_BREAKING:
		return "critical";
	case DIFF_WARNING:
		return "warning";
	default:
		return "info";
	}
}

/* The alert's dedup_key, hashed when longer than PagerDuty takes. */
static void pagerduty_dedup_key(const char *key, char out[PAGERDUTY_DEDUP_MAX + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	static const char hex[] = "0123456789abcdef";

	if (strlen(key) <= PAGERDUTY_DEDUP_MAX) {
		snprintf(out, PAGERDUTY_DEDUP_MAX + 1, "%s", key);
		return;
	}
	SHA256((const unsigned char *)key, strlen(key), md);
	memcpy(out, "schemadrift-", 12);
	for (size_t i = 0; i < sizeof(md); i++) {
		out[12 + 2 * i] = hex[md[i] >> 4];
		out[12 + 2 * i + 1] = hex[md[i] & 15];
	}
	out[12 + 2 * sizeof(md)] = '\0';
}

/* "removed table public.legacy", "modified column public.t.c: type int -> bigint". */
static char *pagerduty_change_text(const struct alert_change *c)
{
	char kind[64], *out;
	int r;

	notify_kind_label(c->kind, kind, sizeof(kind));
	if (c->attribute && !notify_change_is_long(c, 200))
		r = asprintf(&out, "%s: %s %s %s: %s %s -> %s", c->severity, c->change, kind,
			     c->object, c->attribute, c->before, c->after);
	else if (c->attribute)
		r = asprintf(&out, "%s: %s %s %s: %s changed", c->severity, c->change, kind,
			     c->object, c->attribute);
	else if (c->renamed_from)
		r = asprintf(&out, "%s: %s %s %s -> %s", c->severity, c->change, kind,
			     c->renamed_from, c->object);
	else
		r = asprintf(&out, "%s: %s %s %s", c->severity, c->change, kind, c->object);
	if (r < 0)
		return NULL;
	if (c->attribution) {
		char *more;

		r = asprintf(&more, "%s\n%s", out, c->attribution);
		free(out);
		if (r < 0)
			return NULL;
		out = more;
	}
	for (int k = 0; k < 2; k++) {
		const char *sql = k ? c->revert_sql : c->definition;
		char *more;

		if (!sql)
			continue;
		r = asprintf(&more, "%s\n%s%s", out, k ? "revert: " : "", sql);
		free(out);
		if (r < 0)
			return NULL;
		out = more;
	}
	return out;
}

/* "what_to_do": the commands that resolve it, and what revert SQL is. */
static int pagerduty_resolve(const struct alert *a, json_t *d)
{
	char **lines;
	size_t n;
	json_t *arr;
	int r;

	if (alert_resolve_lines(a, 5, &lines, &n) < 0)
		return -ENOMEM;
	if (n == 0)
		return 0;
	arr = json_array();
	r = arr ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = json_array_append_new(arr, json_string(lines[i])) == 0 ? 0 : -ENOMEM;
	if (r == 0)
		r = json_array_append_new(arr, json_string(ALERT_REVERT_NOTE " It is shown under "
							   "each change (revert:).")) == 0
			    ? 0
			    : -ENOMEM;
	alert_resolve_lines_free(lines, n);
	if (r == 0)
		return jset(d, "what_to_do", arr);
	json_decref(arr);
	return r;
}

static json_t *pagerduty_details(const struct alert *a, size_t max_changes)
{
	json_t *d = json_object(), *list = json_array();
	size_t n = a->n_changes < max_changes ? a->n_changes : max_changes;
	int r = d && list ? 0 : -ENOMEM;

	if (r == 0 && a->target)
		r = jset(d, "target", json_string(a->target));
	if (r == 0 && a->environment)
		r = jset(d, "environment", json_string(a->environment));
	if (r == 0)
		r = jset(d, "alert_id", json_string(a->id));
	if (r == 0 && a->kind == ALERT_DRIFT) {
		r = jset(d, "changes",
			 json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "total",
				   (json_int_t)a->total_changes, "breaking",
				   (json_int_t)a->by_severity[DIFF_BREAKING], "warning",
				   (json_int_t)a->by_severity[DIFF_WARNING], "info",
				   (json_int_t)a->by_severity[DIFF_INFO], "added",
				   (json_int_t)a->by_type[DIFF_ADDED], "removed",
				   (json_int_t)a->by_type[DIFF_REMOVED], "modified",
				   (json_int_t)a->by_type[DIFF_MODIFIED], "renamed",
				   (json_int_t)a->by_type[DIFF_RENAMED]));
		for (size_t i = 0; r == 0 && i < n; i++) {
			char *t = pagerduty_change_text(&a->changes[i]);
			json_t *s = t ? json_string(t) : NULL;

			free(t);
			r = s && json_array_append_new(list, s) == 0 ? 0 : -ENOMEM;
		}
		if (r == 0 && a->total_changes > n) {
			char more[64];

			snprintf(more, sizeof(more), "... and %zu more changes", a->total_changes - n);
			r = json_array_append_new(list, json_string(more)) == 0 ? 0 : -ENOMEM;
		}
		if (r == 0) {
			r = jset(d, "top_changes", list);
			list = NULL;
		}
		if (r == 0)
			r = pagerduty_resolve(a, d);
	}
	if (r == 0 && a->from_hash)
		r = jset(d, "from_hash", json_string(a->from_hash));
	if (r == 0 && a->to_hash)
		r = jset(d, "to_hash", json_string(a->to_hash));
	if (r == 0 && a->message)
		r = jset(d, "message", json_string(a->message));
	if (r == 0 && a->attribution)
		r = jset(d, "attribution", json_string(a->attribution));
	json_decref(list);
	if (r < 0) {
		json_decref(d);
		return NULL;
	}
	return d;
}

/* The event; routing_key is the placeholder unless key is given. */
static int pagerduty_event(const struct notify_channel *ch, const struct alert *a,
			   const char *key, char **ret, struct error *err)
{
	const struct pagerduty_state *st = ch->state;
	size_t max = st ? (size_t)st->http.max_changes : PAGERDUTY_DEFAULT_MAX_CHANGES;
	char dedup[PAGERDUTY_DEDUP_MAX + 1], created[21];
	char *headline = NULL, *summary = NULL;
	json_t *j = json_object(), *payload = NULL;
	int r = j ? 0 : -ENOMEM;

	if (a->kind == ALERT_RECOVERED && !a->dedup_key) {
		json_decref(j);
		return error_set(err, -EINVAL,
				 "channel '%s': a recovered alert without a dedup_key cannot "
				 "resolve a PagerDuty incident",
				 ch->name);
	}
	if (a->dedup_key)
		pagerduty_dedup_key(a->dedup_key, dedup);
	if (r == 0)
		r = jset(j, "routing_key", json_string(key ? key : PAGERDUTY_KEY_PLACEHOLDER));
	if (r == 0)
		r = jset(j, "event_action",
			 json_string(a->kind == ALERT_RECOVERED ? "resolve" : "trigger"));
	if (r == 0 && a->dedup_key)
		r = jset(j, "dedup_key", json_string(dedup));
	if (r == 0 && a->kind != ALERT_RECOVERED) {
		headline = alert_headline(a);
		summary = headline ? notify_truncate(headline, PAGERDUTY_SUMMARY_MAX) : NULL;
		isotime_format(a->created, created);
		payload = json_object();
		r = summary && payload ? 0 : -ENOMEM;
		if (r == 0)
			r = jset(payload, "summary", json_string(summary));
		if (r == 0)
			r = jset(payload, "source",
				 json_string(a->target ? a->target : "schemadrift"));
		if (r == 0)
			r = jset(payload, "severity", json_string(pagerduty_severity(a)));
		if (r == 0)
			r = jset(payload, "timestamp", json_string(created));
		if (r == 0)
			r = jset(payload, "component", json_string("database schema"));
		if (r == 0 && a->environment)
			r = jset(payload, "group", json_string(a->environment));
		if (r == 0)
			r = jset(payload, "class", json_string(alert_kind_name(a->kind)));
		if (r == 0)
			r = jset(payload, "custom_details", pagerduty_details(a, max));
		if (r == 0) {
			r = jset(j, "payload", payload);
			payload = NULL;
		}
		if (r == 0)
			r = jset(j, "client", json_string("schemadrift"));
		if (r == 0 && a->link) {
			r = jset(j, "client_url", json_string(a->link));
			if (r == 0)
				r = jset(j, "links",
					 json_pack("[{s:s,s:s}]", "href", a->link, "text",
						   "Open in schemadrift"));
		}
	}
	free(headline);
	free(summary);
	json_decref(payload);
	if (r == 0) {
		*ret = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!*ret)
			r = -ENOMEM;
	}
	json_decref(j);
	if (r < 0)
		return error_set(err, r, "channel '%s': cannot build the event", ch->name);
	return 0;
}

static int pagerduty_render(struct notify_channel *ch, const struct alert *a, char **ret_body,
			    struct error *err)
{
	return pagerduty_event(ch, a, NULL, ret_body, err);
}

static void pagerduty_destroy(struct notify_channel *ch)
{
	struct pagerduty_state *st = ch->state;

	if (!st)
		return;
	notify_http_done(&st->http);
	ini_secret_free(st->routing_key);
	free(st);
	ch->state = NULL;
}

static int pagerduty_parse_routing_key(void *state, const struct ini_kv *kv, struct error *err)
{
	struct pagerduty_state *st = state;
	int r;

	ini_secret_free(st->routing_key);
	st->routing_key = NULL;
	r = ini_secret(kv, &st->routing_key, err);
	if (r == 0 && notify_http_add_secret(&st->http, st->routing_key) < 0)
		r = error_set(err, -ENOMEM, "out of memory");
	return r;
}

_Static_assert(offsetof(struct pagerduty_state, http) == 0, "NOTIFY_HTTP_KEYS' offsets");

static const struct notify_key pagerduty_keys[] = {
	NOTIFY_HTTP_KEYS(PAGERDUTY_DEFAULT_MAX_CHANGES),
	{ "routing_key", NOTIFY_KEY_CUSTOM, 0, NULL, 0, 0, pagerduty_parse_routing_key,
	  "Required: the integration key, a secret (file:PATH or credential:NAME)." },
};

static int pagerduty_configure(struct notify_channel *ch, const struct ini_section *s,
			       struct error *err)
{
	struct pagerduty_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return error_set(err, -ENOMEM, "out of memory");
	ch->state = st;
	r = notify_keys_apply(ch->backend, st, s, err);
	if (r >= 0 && !st->routing_key)
		r = ini_section_error(s, err, -EINVAL,
				       "needs routing_key = (the integration key; better "
				       "file:PATH or credential:NAME, it is a secret)");
	if (r >= 0)
		r = notify_http_check(&st->http, ch, s, PAGERDUTY_DEFAULT_URL, err);
	if (r < 0) {
		pagerduty_destroy(ch);
		return r;
	}
	return 0;
}

static int pagerduty_send(struct notify_channel *ch, const struct alert *a, notify_done_fn done,
			  void *arg)
{
	struct pagerduty_state *st = ch->state;
	struct error err;
	char *body = NULL;
	int r;

	if (!st)
		return -EINVAL;
	r = pagerduty_event(ch, a, st->routing_key, &body, &err);
	if (r == -EINVAL) {
		/* Nothing to send will ever work for this alert: a dead letter. */
		struct notify_result res = { .status = NOTIFY_FAILED };

		snprintf(res.detail, sizeof(res.detail), "%s", err.text);
		return notify_http_defer(ch, &st->http, &res, done, arg);
	}
	if (r < 0)
		return r;
	r = notify_http_post(ch, &st->http, body, strlen(body), NULL, 0, done, arg);
	explicit_bzero(body, strlen(body));
	free(body);
	return r;
}

const struct notify_backend notify_pagerduty_backend = {
	.name = "pagerduty",
	.keys = pagerduty_keys,
	.n_keys = sizeof(pagerduty_keys) / sizeof(pagerduty_keys[0]),
	.configure = pagerduty_configure,
	.render = pagerduty_render,
	.send = pagerduty_send,
	.destroy = pagerduty_destroy,
};
