/* Generic webhook channel: versioned JSON alert, custom headers, Standard Webhooks signature. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "notify.h"
#include "isotime.h"
#include "notify_http.h"

/* docs/notifiers.md, "webhook": bumped on any incompatible change of the payload. */
#define WEBHOOK_PAYLOAD_VERSION 1
/* Standard Webhooks recommends secrets of 24 to 64 bytes; fewer than 16 is refused. */
#define WEBHOOK_SECRET_MIN 16
#define WEBHOOK_SECRET_MAX 256
#define WEBHOOK_MAX_HEADERS 32

struct webhook_state {
	struct notify_http http; /* first: the shared HTTP part */
	unsigned char key[WEBHOOK_SECRET_MAX];
	size_t key_len; /* 0: unsigned */
	char *headers[WEBHOOK_MAX_HEADERS]; /* "Name: value"; may hold secrets */
	size_t n_headers;
};

/* ------------------------------------------------------------ payload */

static int jset(json_t *o, const char *key, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *webhook_change(const struct alert_change *c)
{
	json_t *j = json_object();
	int r = j ? 0 : -ENOMEM;

	if (r == 0)
		r = jset(j, "change", jstr(c->change));
	if (r == 0)
		r = jset(j, "severity", jstr(c->severity));
	if (r == 0)
		r = jset(j, "kind", jstr(c->kind));
	if (r == 0)
		r = jset(j, "object", jstr(c->object));
	if (r == 0 && c->renamed_from)
		r = jset(j, "renamed_from", jstr(c->renamed_from));
	if (r == 0 && c->attribute) {
		r = jset(j, "attribute", jstr(c->attribute));
		if (r == 0)
			r = jset(j, "before", jstr(c->before));
		if (r == 0)
			r = jset(j, "after", jstr(c->after));
	}
	if (r == 0 && c->definition)
		r = jset(j, "definition", jstr(c->definition));
	if (r == 0 && c->revert_sql)
		r = jset(j, "revert_sql", jstr(c->revert_sql));
	if (r == 0 && c->attribution)
		r = jset(j, "attribution", jstr(c->attribution));
	if (r < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* The documented payload (schema version WEBHOOK_PAYLOAD_VERSION). */
static json_t *webhook_payload(const struct alert *a, size_t max_changes)
{
	json_t *j = json_object(), *changes = json_array(), *summary = NULL;
	size_t n = a->n_changes < max_changes ? a->n_changes : max_changes;
	char created[21], *headline = alert_headline(a);
	int r = j && changes && headline ? 0 : -ENOMEM;

	isotime_format(a->created, created);
	if (r == 0)
		r = jset(j, "schemadrift_alert",
			 json_pack("{s:i}", "version", WEBHOOK_PAYLOAD_VERSION));
	if (r == 0)
		r = jset(j, "id", jstr(a->id));
	if (r == 0)
		r = jset(j, "kind", jstr(alert_kind_name(a->kind)));
	if (r == 0)
		r = jset(j, "created_at", jstr(created));
	if (r == 0)
		r = jset(j, "target", jstr(a->target));
	if (r == 0)
		r = jset(j, "environment", jstr(a->environment));
	if (r == 0)
		r = jset(j, "severity", jstr(diff_severity_name(a->severity)));
	if (r == 0)
		r = jset(j, "headline", jstr(headline));
	if (r == 0) {
		summary = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "changes",
				    (json_int_t)a->total_changes, "added",
				    (json_int_t)a->by_type[DIFF_ADDED], "removed",
				    (json_int_t)a->by_type[DIFF_REMOVED], "modified",
				    (json_int_t)a->by_type[DIFF_MODIFIED], "renamed",
				    (json_int_t)a->by_type[DIFF_RENAMED], "breaking",
				    (json_int_t)a->by_severity[DIFF_BREAKING], "warning",
				    (json_int_t)a->by_severity[DIFF_WARNING], "info",
				    (json_int_t)a->by_severity[DIFF_INFO]);
		r = jset(j, "summary", summary);
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *c = webhook_change(&a->changes[i]);

		r = c && json_array_append_new(changes, c) == 0 ? 0 : -ENOMEM;
	}
	if (r == 0) {
		r = jset(j, "changes", changes);
		changes = NULL;
	}
	if (r == 0 && a->attribution)
		r = jset(j, "attribution", jstr(a->attribution));
	if (r == 0)
		r = jset(j, "changes_omitted",
			 json_integer((json_int_t)(a->total_changes > n ? a->total_changes - n : 0)));
	if (r == 0 && a->kind == ALERT_DRIFT) {
		char **lines;
		size_t nl;
		json_t *arr = json_array();

		r = arr && alert_resolve_lines(a, n, &lines, &nl) == 0 ? 0 : -ENOMEM;
		for (size_t i = 0; r == 0 && i < nl; i++)
			r = json_array_append_new(arr, jstr(lines[i])) == 0 ? 0 : -ENOMEM;
		if (r == 0)
			alert_resolve_lines_free(lines, nl);
		r = r == 0 ? jset(j, "resolve", arr) : (json_decref(arr), r);
	}
	if (r == 0)
		r = jset(j, "from_hash", jstr(a->from_hash));
	if (r == 0)
		r = jset(j, "to_hash", jstr(a->to_hash));
	if (r == 0)
		r = jset(j, "message", jstr(a->message));
	if (r == 0)
		r = jset(j, "link", jstr(a->link));
	if (r == 0)
		r = jset(j, "dedup_key", jstr(a->dedup_key));
	free(headline);
	json_decref(changes);
	if (r < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int webhook_body(const struct notify_channel *ch, const struct alert *a, char **ret,
			struct error *err)
{
	const struct webhook_state *st = ch->state;
	size_t max = st ? (size_t)st->http.max_changes : ALERT_MAX_CHANGES;
	json_t *j = webhook_payload(a, max);
	char *body;

	if (!j)
		return error_set(err, -ENOMEM, "channel '%s': cannot build the payload", ch->name);
	body = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!body)
		return error_set(err, -ENOMEM, "channel '%s': cannot build the payload", ch->name);
	*ret = body;
	return 0;
}

static int webhook_render(struct notify_channel *ch, const struct alert *a, char **ret_body,
			  struct error *err)
{
	return webhook_body(ch, a, ret_body, err);
}

/* ------------------------------------------------------------ signing */

/* Standard base64 (RFC 4648, with padding) decoding; -EINVAL on anything else. */
static int webhook_base64_decode(const char *s, unsigned char *out, size_t cap, size_t *ret_len)
{
	size_t n = strlen(s), len = 0;
	unsigned acc = 0;
	int bits = 0, pad = 0;

	if (n == 0 || n % 4)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int v;

		if (ch == '=') {
			if (i < n - 2)
				return -EINVAL;
			pad++;
			continue;
		}
		if (pad)
			return -EINVAL;
		if (ch >= 'A' && ch <= 'Z')
			v = ch - 'A';
		else if (ch >= 'a' && ch <= 'z')
			v = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9')
			v = ch - '0' + 52;
		else if (ch == '+')
			v = 62;
		else if (ch == '/')
			v = 63;
		else
			return -EINVAL;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (len == cap)
				return -E2BIG;
			out[len++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*ret_len = len;
	return 0;
}

/* "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" into out. */
static int webhook_sign(const struct webhook_state *st, const char *id, const char *ts,
			const char *body, size_t body_len, char *out, size_t size)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	size_t id_len = strlen(id), ts_len = strlen(ts);
	size_t len = id_len + 1 + ts_len + 1 + body_len;
	unsigned char *msg = malloc(len);

	if (!msg)
		return -ENOMEM;
	memcpy(msg, id, id_len);
	msg[id_len] = '.';
	memcpy(msg + id_len + 1, ts, ts_len);
	msg[id_len + 1 + ts_len] = '.';
	memcpy(msg + id_len + 2 + ts_len, body, body_len);
	if (!HMAC(EVP_sha256(), st->key, (int)st->key_len, msg, len, mac, &mac_len)) {
		free(msg);
		return -EIO;
	}
	free(msg);
	EVP_EncodeBlock(b64, mac, (int)mac_len);
	snprintf(out, size, "webhook-signature: v1,%s", (const char *)b64);
	return 0;
}

/* ------------------------------------------------------------ configure */

static bool webhook_token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       strchr("!#$%&'*+.^_`|~-", c) != NULL;
}

/* Headers we set ourselves, or that would break the request framing. */
static const char *const webhook_reserved[] = {
	"content-type",	     "content-length",	  "host",	     "transfer-encoding",
	"expect",	     "connection",	  "webhook-id",	     "webhook-timestamp",
	"webhook-signature", "idempotency-key",
};

/* `header = Name: value` or, with secret, `secret_header = Name: file:PATH`. */
static int webhook_header(struct webhook_state *st, const struct ini_kv *kv, bool secret,
			  struct error *err)
{
	const char *colon = strchr(kv->value, ':'), *v;
	size_t nlen;
	char *value = NULL, *line;
	int r;

	if (st->n_headers == WEBHOOK_MAX_HEADERS)
		return ini_error(kv, err, -E2BIG, "at most %d headers", WEBHOOK_MAX_HEADERS);
	if (!colon || colon == kv->value)
		return ini_error(kv, err, -EINVAL, "expected 'Name: value'");
	nlen = (size_t)(colon - kv->value);
	for (size_t i = 0; i < nlen; i++)
		if (!webhook_token_char(kv->value[i]))
			return ini_error(kv, err, -EINVAL, "invalid header name");
	for (size_t i = 0; i < sizeof(webhook_reserved) / sizeof(webhook_reserved[0]); i++)
		if (strlen(webhook_reserved[i]) == nlen &&
		    strncasecmp(kv->value, webhook_reserved[i], nlen) == 0)
			return ini_error(kv, err, -EINVAL, "header %.*s is set by schemadrift",
					  (int)nlen, kv->value);
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (secret) {
		/* The value part gets ini_secret's rules (file:, credential:, private file). */
		struct ini_kv vkv = *kv;

		vkv.value = (char *)v;
		r = ini_secret(&vkv, &value, err);
		if (r < 0)
			return r;
	} else {
		value = strdup(v);
		if (!value)
			return ini_error(kv, err, -ENOMEM, "out of memory");
	}
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
			explicit_bzero(value, strlen(value));
			free(value);
			return ini_error(kv, err, -EINVAL, "control character in the header value");
		}
	}
	r = asprintf(&line, "%.*s: %s", (int)nlen, kv->value, value);
	if (secret)
		r = r < 0 ? r : notify_http_add_secret(&st->http, value);
	explicit_bzero(value, strlen(value));
	free(value);
	if (r < 0)
		return ini_error(kv, err, -ENOMEM, "out of memory");
	st->headers[st->n_headers++] = line;
	return 0;
}

static int webhook_secret(struct webhook_state *st, const struct ini_kv *kv, struct error *err)
{
	char *secret;
	int r = ini_secret(kv, &secret, err);

	if (r < 0)
		return r;
	if (strncmp(secret, "whsec_", 6) != 0) {
		r = ini_error(kv, err, -EINVAL,
			       "the signing secret must look like whsec_<base64> (Standard "
			       "Webhooks); make one with: echo whsec_$(head -c 32 /dev/urandom | "
			       "base64)");
	} else if (webhook_base64_decode(secret + 6, st->key, sizeof(st->key), &st->key_len) < 0) {
		r = ini_error(kv, err, -EINVAL, "the part after whsec_ is not base64");
	} else if (st->key_len < WEBHOOK_SECRET_MIN) {
		r = ini_error(kv, err, -EINVAL, "the signing key is %zu bytes; use at least %d",
			       st->key_len, WEBHOOK_SECRET_MIN);
	} else {
		r = notify_http_add_secret(&st->http, secret);
		if (r == 0)
			r = notify_http_add_secret(&st->http, secret + 6);
		if (r < 0)
			r = ini_error(kv, err, -ENOMEM, "out of memory");
	}
	if (r < 0) {
		explicit_bzero(st->key, sizeof(st->key));
		st->key_len = 0;
	}
	explicit_bzero(secret, strlen(secret));
	free(secret);
	return r;
}

static void webhook_destroy(struct notify_channel *ch)
{
	struct webhook_state *st = ch->state;

	if (!st)
		return;
	notify_http_done(&st->http);
	for (size_t i = 0; i < st->n_headers; i++) {
		explicit_bzero(st->headers[i], strlen(st->headers[i]));
		free(st->headers[i]);
	}
	explicit_bzero(st->key, sizeof(st->key));
	free(st);
	ch->state = NULL;
}

static int webhook_parse_secret(void *state, const struct ini_kv *kv, struct error *err)
{
	return webhook_secret(state, kv, err);
}

static int webhook_parse_header(void *state, const struct ini_kv *kv, struct error *err)
{
	return webhook_header(state, kv, false, err);
}

static int webhook_parse_secret_header(void *state, const struct ini_kv *kv, struct error *err)
{
	return webhook_header(state, kv, true, err);
}

_Static_assert(offsetof(struct webhook_state, http) == 0, "NOTIFY_HTTP_KEYS' offsets");

static const struct notify_key webhook_keys[] = {
	NOTIFY_HTTP_KEYS(ALERT_MAX_CHANGES),
	{ "secret", NOTIFY_KEY_CUSTOM, 0, NULL, 0, 0, webhook_parse_secret,
	  "The signing secret, whsec_BASE64 (Standard Webhooks); none: unsigned." },
	{ "header", NOTIFY_KEY_CUSTOM, 0, NULL, 0, 0, webhook_parse_header,
	  "An extra header, Name: value; repeatable (up to 32)." },
	{ "secret_header", NOTIFY_KEY_CUSTOM, 0, NULL, 0, 0, webhook_parse_secret_header,
	  "An extra header whose value is a secret: Name: file:PATH or Name: credential:NAME." },
};

static int webhook_configure(struct notify_channel *ch, const struct ini_section *s,
			     struct error *err)
{
	struct webhook_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return error_set(err, -ENOMEM, "out of memory");
	ch->state = st;
	r = notify_keys_apply(ch->backend, st, s, err);
	if (r >= 0)
		r = notify_http_check(&st->http, ch, s, NULL, err);
	if (r < 0) {
		webhook_destroy(ch);
		return r;
	}
	return 0;
}

/* ------------------------------------------------------------ send */

static int webhook_send(struct notify_channel *ch, const struct alert *a, notify_done_fn done,
			void *arg)
{
	struct webhook_state *st = ch->state;
	const char *hdrs[WEBHOOK_MAX_HEADERS + 4];
	char id_hdr[128], idem_hdr[128], ts_hdr[64], ts[32], sig[160];
	size_t n = 0;
	char *body = NULL;
	struct error err;
	int r;

	if (!st)
		return -EINVAL;
	if (!notify_id_is_token(a->id)) {
		struct notify_result res = { .status = NOTIFY_FAILED };

		snprintf(res.detail, sizeof(res.detail),
			 "alert id is not a token of 1-100 letters, digits, '_', '-' or '.'");
		return notify_http_defer(ch, &st->http, &res, done, arg);
	}
	r = webhook_body(ch, a, &body, &err);
	if (r < 0)
		return r;
	/* The alert id is the message id: a retried alert keeps it, so a
	 * receiver can drop duplicates (the Standard Webhooks idempotency key). */
	snprintf(id_hdr, sizeof(id_hdr), "webhook-id: %s", a->id);
	snprintf(idem_hdr, sizeof(idem_hdr), "Idempotency-Key: %s", a->id);
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	snprintf(ts_hdr, sizeof(ts_hdr), "webhook-timestamp: %s", ts);
	hdrs[n++] = id_hdr;
	hdrs[n++] = ts_hdr;
	hdrs[n++] = idem_hdr;
	if (st->key_len) {
		r = webhook_sign(st, a->id, ts, body, strlen(body), sig, sizeof(sig));
		if (r < 0) {
			free(body);
			return r;
		}
		hdrs[n++] = sig;
	}
	for (size_t i = 0; i < st->n_headers; i++)
		hdrs[n++] = st->headers[i];
	r = notify_http_post(ch, &st->http, body, strlen(body), hdrs, n, done, arg);
	free(body);
	return r;
}

const struct notify_backend notify_webhook_backend = {
	.name = "webhook",
	.keys = webhook_keys,
	.n_keys = sizeof(webhook_keys) / sizeof(webhook_keys[0]),
	.configure = webhook_configure,
	.render = webhook_render,
	.send = webhook_send,
	.destroy = webhook_destroy,
};
