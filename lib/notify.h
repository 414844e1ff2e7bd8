/* Notifier interface and registry: one const vtable per channel type, one table of them. */
#ifndef SCHEMADRIFT_NOTIFY_H
#define SCHEMADRIFT_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <event2/event.h>

#include "alert.h"
#include "ini.h"
#include "error.h"
#include "strbuf.h"

struct http_client;

enum notify_status {
	NOTIFY_DELIVERED, /* the channel accepted it (2xx, SMTP 250) */
	NOTIFY_RETRY,     /* network error, timeout, 408, 429, 5xx, SMTP 4xx: try again later */
	NOTIFY_FAILED,    /* permanent (other 3xx/4xx, SMTP 5xx, refused TLS): dead letter */
};

struct notify_result {
	enum notify_status status;
	int retry_after_s; /* from Retry-After, or 0 */
	char detail[512];  /* what the remote side answered, for logs and test-alert; no secrets */
};

struct notify_channel;

/* Called exactly once per send, on the event loop's thread. */
typedef void (*notify_done_fn)(struct notify_channel *ch, const struct notify_result *res,
			       void *arg);

/* Shared, loop-bound resources every channel may use. */
struct notify_env {
	struct event_base *base;
	struct http_client *http; /* lib/http.h: libcurl multi-socket on base */
};

/*
 * One key of a [notifier NAME] section: each backend's vtable carries a table
 * of them, as config.c's table describes the daemon's keys.  Parsing
 * (notify_keys_apply), defaults, --check-config, the sample configuration
 * (notify_write_sample) and the man page's test all read these tables.
 */
enum notify_key_type {
	NOTIFY_KEY_SECRET,   /* char *, ini_secret(): file:, credential:, or inline in a
				private file; wiped when replaced or freed */
	NOTIFY_KEY_BOOL,     /* bool */
	NOTIFY_KEY_INT,      /* long, min..max */
	NOTIFY_KEY_DURATION, /* long, milliseconds, min..max */
	NOTIFY_KEY_CUSTOM,   /* parse() takes the value */
};

struct notify_key {
	const char *key;
	enum notify_key_type type;
	size_t offset;      /* where the value goes in the state given to notify_keys_apply */
	const char *def;    /* the default as it would be written; NULL: none */
	long long min, max; /* NOTIFY_KEY_INT and NOTIFY_KEY_DURATION (ms) */
	/* NOTIFY_KEY_CUSTOM: checks kv and stores it in state, replacing an earlier
	 * value (a key may be repeated; the default comes first). */
	int (*parse)(void *state, const struct ini_kv *kv, struct error *err);
	const char *doc; /* one line, for the sample configuration */
};

struct notify_backend {
	const char *name; /* "webhook", "slack", "teams", "discord", "pagerduty", "smtp" */
	/* Every key this type takes besides `type` (notify_keys_apply). */
	const struct notify_key *keys;
	size_t n_keys;
	/* Reads its keys from the [notifier NAME] section with notify_keys_apply()
	 * (unknown keys are errors naming file:line), then checks what one key
	 * alone cannot.  Sets ch->state. */
	int (*configure)(struct notify_channel *ch, const struct ini_section *s,
			 struct error *err);
	/* The payload this channel would send, for `schemadrift render` and tests.
	 * Never contains a secret.  Must work with ch->state == NULL (not
	 * configured: defaults), which is how `schemadrift render` calls it. */
	int (*render)(struct notify_channel *ch, const struct alert *a, char **ret_body,
		      struct error *err);
	/* Starts an asynchronous delivery; done is called later, never from inside
	 * send.  A negative return (nothing started, done never called) means a
	 * local failure worth retrying (-ENOMEM); problems with the alert itself
	 * are reported through done as NOTIFY_FAILED. */
	int (*send)(struct notify_channel *ch, const struct alert *a, notify_done_fn done,
		    void *arg);
	/* Frees ch->state (may be NULL); sends in flight are dropped and their
	 * done callbacks are not called. */
	void (*destroy)(struct notify_channel *ch);
};

struct notify_channel {
	const struct notify_backend *backend;
	char *name; /* the section's NAME */
	struct notify_env *env;
	void *state; /* the backend's */
};

/* The registry (notify.c): one row per backend. */
extern const struct notify_backend notify_webhook_backend;
extern const struct notify_backend notify_pagerduty_backend;
extern const struct notify_backend notify_slack_backend;
extern const struct notify_backend notify_teams_backend;
extern const struct notify_backend notify_discord_backend;
extern const struct notify_backend notify_smtp_backend;

const struct notify_backend *notify_backend_find(const char *type);
/* "webhook, pagerduty, slack, teams, discord, smtp" into buf. */
void notify_backend_names(char *buf, size_t size);

/* From a [notifier NAME] section with `type = ...`. */
int notify_channel_new(struct notify_env *env, const struct ini_section *s,
		       struct notify_channel **ret, struct error *err);
void notify_channel_free(struct notify_channel *ch);

/* Sets every key of b's table that has a default, then every key of section s
 * (`type` is accepted and skipped), in file order, into state.  A key not in
 * the table is an error naming file:line. */
int notify_keys_apply(const struct notify_backend *b, void *state, const struct ini_section *s,
		      struct error *err);
/* The commented templates of every notifier type, from the key tables (the
 * end of `schemadriftd --print-sample-config`). */
int notify_write_sample(FILE *out);

/* What a channel of this type would send for a, with default settings
 * (`schemadrift render --channel TYPE`). */
int notify_render_type(const char *type, const struct alert *a, char **ret_body,
		       struct error *err);

/* An alert id fit for a header: 1-100 of [A-Za-z0-9_.-]. */
bool notify_id_is_token(const char *id);

/* Escaping for a channel: the bytes that stand for the character at p
 * (*ret_len of them), and how many bytes of p that character takes. */
typedef const char *(*notify_escape_fn)(const char *p, size_t *ret_len, size_t *ret_advance);
/* Appends s escaped by fn, at most max units long counting the escapes; cut
 * only between whole characters and escapes, ending in "…" when cut. */
void notify_escape_cut(struct strbuf *b, const char *s, size_t max, notify_escape_fn fn);

/* A message title (unescaped): "Schema drift on billing (production)",
 * "Cannot monitor billing", "Recovered: billing", "Test alert from schemadrift". */
char *notify_title(const struct alert *a);

/* Text helpers for renderers.  Lengths are counted in UTF-16 code units, the
 * most any of the chat services counts. */
size_t notify_text_units(const char *s);
/* Characters of an attribution line ("by ROLE from ...") a channel shows. */
#define NOTIFY_WHO_MAX 400
/* A copy of s cut to at most max units, ending in "…" when cut; malloc'd. */
char *notify_truncate(const char *s, size_t max_units);
/* "column", "materialized view": a change's kind for humans. */
void notify_kind_label(const char *kind, char *buf, size_t size);
/* Whether a modified change's values are best shown as "changed" (multi-line or long). */
bool notify_change_is_long(const struct alert_change *c, size_t max_units);

#endif
