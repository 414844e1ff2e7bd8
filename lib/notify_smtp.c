/* The smtp notifier: alerts as multipart email through libESMTP, sent from a worker thread. */
#include "notify.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
/* auth-client.h and openssl/ssl.h first: libesmtp.h declares smtp_auth_set_context()
 * and smtp_starttls_set_ctx() only when it sees them. */
#include <auth-client.h>
#include <libesmtp.h>

#include "diff.h"
#include "mime.h"
#include "utf8.h"
#include "worker.h"

#define SMTP_DEFAULT_PORT      587
#define SMTP_DEFAULT_TIMEOUT_S 30
#define SMTP_DEFAULT_PREFIX    "[schemadrift]"

/* ------------------------------------------------------------- configuration */

enum smtp_tls { SMTP_STARTTLS_REQUIRED, SMTP_STARTTLS_NONE };

struct smtp_conf {
	char *host;
	long port;
	enum smtp_tls tls;
	char *username;
	char *password; /* from ini_secret; wiped on free */
	struct mime_mailbox from;
	struct mime_mailbox *to, *cc;
	size_t n_to, n_cc;
	char *subject_prefix;
	char *ca_file; /* absolute, or as configured when no directory applies */
	long timeout_ms; /* as configured */
	int timeout_s;   /* timeout_ms rounded up: libESMTP counts seconds */
	char *msgid_host; /* right-hand side of Message-IDs */
};

struct smtp_state {
	struct smtp_conf conf;
	struct worker *worker; /* created at the first send */
};

static void conf_done(struct smtp_conf *c)
{
	free(c->host);
	free(c->username);
	ini_secret_free(c->password);
	mime_mailbox_done(&c->from);
	for (size_t i = 0; i < c->n_to; i++)
		mime_mailbox_done(&c->to[i]);
	for (size_t i = 0; i < c->n_cc; i++)
		mime_mailbox_done(&c->cc[i]);
	free(c->to);
	free(c->cc);
	free(c->subject_prefix);
	free(c->ca_file);
	free(c->msgid_host);
	memset(c, 0, sizeof(*c));
}

static int parse_list(const struct ini_kv *kv, struct mime_mailbox **ret, size_t *ret_n,
		      struct error *err)
{
	struct mime_mailbox *list = NULL;
	size_t n = 0;
	const char *p = kv->value;

	for (;;) {
		const char *comma = strchrnul(p, ',');
		const char *why = NULL;
		struct mime_mailbox *grown;
		const char *q = p;
		int rc;

		while (q < comma && isspace((unsigned char)*q))
			q++;
		if (q == comma) {
			if (!*comma && n > 0)
				break; /* a trailing comma */
			rc = ini_error(kv, err, -EINVAL, "empty address in the list");
			goto fail;
		}
		grown = realloc(list, (n + 1) * sizeof(*list));
		if (!grown) {
			rc = error_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
		list = grown;
		rc = mime_mailbox_parse(p, (size_t)(comma - p), &list[n], &why);
		if (rc < 0) {
			if (rc == -EINVAL)
				ini_error(kv, err, rc, "'%.*s': %s", (int)(comma - p), p, why);
			else
				error_set(err, rc, "out of memory");
			goto fail;
		}
		n++;
		if (!*comma)
			break;
		p = comma + 1;
		continue;
	fail:
		for (size_t i = 0; i < n; i++)
			mime_mailbox_done(&list[i]);
		free(list);
		return rc;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

/* A path relative to the directory of the file that names it. */
static char *resolve_path(const struct ini_kv *kv)
{
	const char *slash;
	char *ret;

	if (kv->value[0] == '/' || !kv->file || !(slash = strrchr(kv->file, '/')))
		return strdup(kv->value);
	if (asprintf(&ret, "%.*s/%s", (int)(slash - kv->file), kv->file, kv->value) < 0)
		return NULL;
	return ret;
}

static bool host_valid(const char *h)
{
	struct in_addr a4;

	if (!*h || strlen(h) > 253)
		return false;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return true;
	/* libESMTP splits "host:port" at the first ':', so IPv6 literals cannot be given. */
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
			return false;
	return true;
}

static char *local_msgid_host(void)
{
	char name[256] = "";
	bool ok = gethostname(name, sizeof(name) - 1) == 0 && name[0];

	for (char *p = name; ok && *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			ok = false;
	return strdup(ok ? name : "localhost.invalid");
}

static int smtp_parse_host(void *state, const struct ini_kv *kv, struct error *err)
{
	struct smtp_conf *c = state;
	char *host;

	if (!host_valid(kv->value))
		return ini_error(kv, err, -EINVAL,
				  "not a host name or IPv4 address (IPv6 literals are not "
				  "supported by libESMTP; use a name)");
	host = strdup(kv->value);
	if (!host)
		return error_set(err, -ENOMEM, "out of memory");
	free(c->host);
	c->host = host;
	return 0;
}

static int smtp_parse_tls(void *state, const struct ini_kv *kv, struct error *err)
{
	(void)state;
	if (strcmp(kv->value, "starttls") != 0)
		return ini_error(kv, err, -EINVAL,
				  "only 'starttls' is supported: libESMTP cannot speak "
				  "implicit TLS (SMTPS, port 465); use the submission port "
				  "587 with STARTTLS");
	return 0;
}

static int smtp_parse_starttls(void *state, const struct ini_kv *kv, struct error *err)
{
	struct smtp_conf *c = state;

	if (strcmp(kv->value, "required") == 0)
		c->tls = SMTP_STARTTLS_REQUIRED;
	else if (strcmp(kv->value, "none") == 0)
		c->tls = SMTP_STARTTLS_NONE;
	else
		return ini_error(kv, err, -EINVAL, "expected 'required' or 'none'");
	return 0;
}

static int smtp_parse_username(void *state, const struct ini_kv *kv, struct error *err)
{
	struct smtp_conf *c = state;
	char *name;

	if (!kv->value[0] || strpbrk(kv->value, "\r\n"))
		return ini_error(kv, err, -EINVAL, "empty or multi-line user name");
	name = strdup(kv->value);
	if (!name)
		return error_set(err, -ENOMEM, "out of memory");
	free(c->username);
	c->username = name;
	return 0;
}

static int smtp_parse_from(void *state, const struct ini_kv *kv, struct error *err)
{
	struct smtp_conf *c = state;
	struct mime_mailbox m;
	const char *why = NULL;
	int rc = mime_mailbox_parse(kv->value, strlen(kv->value), &m, &why);

	if (rc == -EINVAL)
		return ini_error(kv, err, rc, "%s", why);
	if (rc < 0)
		return error_set(err, rc, "out of memory");
	mime_mailbox_done(&c->from);
	c->from = m;
	return 0;
}

static void mailboxes_free(struct mime_mailbox *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mime_mailbox_done(&list[i]);
	free(list);
}

/* A recipient list key: the new list replaces *list (*n of them). */
static int set_list(const struct ini_kv *kv, struct mime_mailbox **list, size_t *n,
		    struct error *err)
{
	struct mime_mailbox *parsed;
	size_t n_parsed;
	int rc = parse_list(kv, &parsed, &n_parsed, err);

	if (rc < 0)
		return rc;
	mailboxes_free(*list, *n);
	*list = parsed;
	*n = n_parsed;
	return 0;
}

static int smtp_parse_to(void *state, const struct ini_kv *kv, struct error *err)
{
	struct smtp_conf *c = state;

	return set_list(kv, &c->to, &c->n_to, err);
}

static int smtp_parse_cc(void *state, const struct ini_kv *kv, struct error *err)
{
	struct smtp_conf *c = state;

	return set_list(kv, &c->cc, &c->n_cc, err);
}

static int smtp_parse_subject_prefix(void *state, const struct ini_kv *kv, struct error *err)
{
	struct smtp_conf *c = state;
	char *prefix = mime_header_text(kv->value);

	if (!prefix)
		return error_set(err, -ENOMEM, "out of memory");
	free(c->subject_prefix);
	c->subject_prefix = prefix;
	return 0;
}

static int smtp_parse_ca_file(void *state, const struct ini_kv *kv, struct error *err)
{
	struct smtp_conf *c = state;
	char *path;

	if (!kv->value[0])
		return ini_error(kv, err, -EINVAL, "empty path");
	path = resolve_path(kv);
	if (!path)
		return error_set(err, -ENOMEM, "out of memory");
	free(c->ca_file);
	c->ca_file = path;
	if (access(c->ca_file, R_OK) < 0)
		return ini_error(kv, err, -errno, "cannot read %s: %s", c->ca_file,
				  strerror(errno));
	return 0;
}

#define SMTP_STR_(x) #x
#define SMTP_STR(x) SMTP_STR_(x)

static const struct notify_key smtp_keys[] = {
	{ "host", NOTIFY_KEY_CUSTOM, 0, NULL, 0, 0, smtp_parse_host,
	  "Required: the mail server, a host name or IPv4 address." },
	{ "port", NOTIFY_KEY_INT, offsetof(struct smtp_conf, port), SMTP_STR(SMTP_DEFAULT_PORT),
	  1, 65535, NULL, "The submission port." },
	{ "starttls", NOTIFY_KEY_CUSTOM, 0, "required", 0, 0, smtp_parse_starttls,
	  "required: STARTTLS with a verified certificate, or no mail; none: plain text." },
	{ "tls", NOTIFY_KEY_CUSTOM, 0, NULL, 0, 0, smtp_parse_tls,
	  "Only starttls (implicit TLS on port 465 is not supported by libESMTP)." },
	{ "username", NOTIFY_KEY_CUSTOM, 0, NULL, 0, 0, smtp_parse_username,
	  "Log in as this user (with password)." },
	{ "password", NOTIFY_KEY_SECRET, offsetof(struct smtp_conf, password), NULL, 0, 0, NULL,
	  "The password for username: file:PATH or credential:NAME." },
	{ "from", NOTIFY_KEY_CUSTOM, 0, NULL, 0, 0, smtp_parse_from,
	  "Required: the sender, address or Name <address>." },
	{ "to", NOTIFY_KEY_CUSTOM, 0, NULL, 0, 0, smtp_parse_to,
	  "Required: recipients, separated by commas." },
	{ "cc", NOTIFY_KEY_CUSTOM, 0, NULL, 0, 0, smtp_parse_cc,
	  "Copy recipients, separated by commas." },
	{ "subject_prefix", NOTIFY_KEY_CUSTOM, 0, SMTP_DEFAULT_PREFIX, 0, 0,
	  smtp_parse_subject_prefix, "Put before every subject." },
	{ "ca_file", NOTIFY_KEY_CUSTOM, 0, NULL, 0, 0, smtp_parse_ca_file,
	  "A PEM file of CA certificates to trust instead of the system's store." },
	{ "timeout", NOTIFY_KEY_DURATION, offsetof(struct smtp_conf, timeout_ms),
	  SMTP_STR(SMTP_DEFAULT_TIMEOUT_S) "s", 1000, 3600 * 1000, NULL,
	  "Give up on the mail server after this long without progress." },
};

/* The keys from the table, then what one key alone cannot check. */
static int smtp_read_conf(const struct ini_section *s, struct smtp_conf *c, struct error *err)
{
	const struct ini_kv *kv;
	int rc;

	rc = notify_keys_apply(&notify_smtp_backend, c, s, err);
	if (rc < 0)
		return rc;
	if (!c->host)
		return ini_section_error(s, err, -EINVAL, "smtp notifier needs 'host'");
	if (c->username && !c->password)
		return ini_section_error(s, err, -EINVAL,
					  "'username' is set but 'password' is not");
	if (!c->username && (kv = ini_get(s, "password")))
		return ini_error(kv, err, -EINVAL, "'password' without 'username'");
	if (!c->from.addr)
		return ini_section_error(s, err, -EINVAL, "smtp notifier needs 'from'");
	if (!c->to)
		return ini_section_error(s, err, -EINVAL, "smtp notifier needs 'to'");
	if (c->ca_file && c->tls == SMTP_STARTTLS_NONE)
		return ini_error(ini_get(s, "ca_file"), err, -EINVAL,
				  "ca_file is set but starttls = none");
	c->timeout_s = (int)((c->timeout_ms + 999) / 1000);
	c->msgid_host = local_msgid_host();
	if (!c->msgid_host)
		return error_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* ----------------------------------------------------------------- rendering */

/* RFC 5322 date, independent of the locale. */
static void put_date(struct strbuf *b, time_t t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	strbuf_printf(b, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		      months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The alert id as dot-atom text, for Message-ID and the MIME boundary. */
static void put_id_token(struct strbuf *b, const char *id)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)(id ? id : ""); *p && n < 64; p++, n++)
		strbuf_putc(b, isalnum(*p) || *p == '-' || *p == '_' ? (char)*p : '-');
	if (n == 0)
		strbuf_puts(b, "alert");
}

static const char *severity_label(enum diff_severity s)
{
	const char *name = diff_severity_name(s);

	return name ? name : "?";
}

static bool link_is_http(const char *link)
{
	return link &&
	       (strncasecmp(link, "https://", 8) == 0 || strncasecmp(link, "http://", 7) == 0);
}

static void plain_field(struct strbuf *b, const char *label, const char *value)
{
	if (!value)
		return;
	strbuf_printf(b, "%-13s", label);
	mime_put_text(b, value, NULL, false);
	strbuf_putc(b, '\n');
}

/* "What to do": the commands that resolve a drift alert. */
static void put_resolve(struct strbuf *b, const struct alert *a, bool html)
{
	char **lines;
	size_t n;

	if (alert_resolve_lines(a, 10, &lines, &n) < 0) {
		b->failed = true;
		return;
	}
	if (n == 0)
		return;
	strbuf_puts(b, html ? "<p>What to do: accept the new state as the baseline, or "
			      "acknowledge an object's drift:</p>\n<pre>"
			    : "\nWhat to do: accept the new state as the baseline, or "
			      "acknowledge an object's drift:\n");
	for (size_t i = 0; i < n; i++) {
		strbuf_puts(b, html ? "" : "  ");
		mime_put_text(b, lines[i], NULL, html);
		strbuf_puts(b, "\n");
	}
	strbuf_puts(b, html ? "</pre>\n<p>" : "");
	strbuf_puts(b, "or revert it with the SQL shown under each change (revert:).");
	strbuf_puts(b, html ? "</p>\n<p>" : "\n");
	strbuf_puts(b, ALERT_REVERT_NOTE);
	strbuf_puts(b, html ? "</p>\n" : "\n");
	alert_resolve_lines_free(lines, n);
}

static void render_plain(struct strbuf *b, const struct alert *a, const char *headline)
{
	const char *kind = alert_kind_name(a->kind);
	char line[128];

	mime_put_text(b, headline, NULL, false);
	strbuf_puts(b, "\n\n");
	plain_field(b, "Target:", a->target);
	plain_field(b, "Environment:", a->environment);
	plain_field(b, "Alert:", kind ? kind : "?");
	plain_field(b, "Severity:", severity_label(a->severity));
	if (a->kind == ALERT_DRIFT || a->total_changes > 0) {
		snprintf(line, sizeof(line), "%zu (%zu added, %zu removed, %zu modified)",
			 a->total_changes, a->by_type[0], a->by_type[1], a->by_type[2]);
		plain_field(b, "Changes:", line);
	}
	plain_field(b, "Baseline:", a->from_hash);
	plain_field(b, "Current:", a->to_hash);
	plain_field(b, "Link:", a->link);
	if (a->message) {
		strbuf_puts(b, "\n");
		mime_put_text(b, a->message, "", false);
		strbuf_puts(b, "\n");
	}
	if (a->attribution) {
		strbuf_puts(b, "\n");
		mime_put_text(b, a->attribution, "", false);
		strbuf_puts(b, "\n");
	}
	if (a->n_changes > 0) {
		strbuf_puts(b, "\nChanges, most severe first:\n");
		for (size_t i = 0; i < a->n_changes; i++) {
			const struct alert_change *c = &a->changes[i];

			strbuf_puts(b, "  [");
			mime_put_text(b, c->severity, NULL, false);
			strbuf_puts(b, "] ");
			mime_put_text(b, c->change, NULL, false);
			strbuf_puts(b, " ");
			mime_put_text(b, c->kind, NULL, false);
			strbuf_puts(b, " ");
			mime_put_text(b, c->object, NULL, false);
			if (c->attribute) {
				strbuf_puts(b, ": ");
				mime_put_text(b, c->attribute, NULL, false);
			}
			strbuf_puts(b, "\n");
			if (c->attribution) {
				strbuf_puts(b, "      ");
				mime_put_text(b, c->attribution, "      ", false);
				strbuf_puts(b, "\n");
			}
			if (c->before) {
				strbuf_puts(b, "      before: ");
				mime_put_text(b, c->before, "              ", false);
				strbuf_puts(b, "\n");
			}
			if (c->after) {
				strbuf_puts(b, "      after:  ");
				mime_put_text(b, c->after, "              ", false);
				strbuf_puts(b, "\n");
			}
			if (c->definition) {
				strbuf_puts(b, "      ");
				mime_put_text(b, c->definition, "      ", false);
				strbuf_puts(b, "\n");
			}
			if (c->revert_sql) {
				strbuf_puts(b, "      revert: ");
				mime_put_text(b, c->revert_sql, "              ", false);
				strbuf_puts(b, "\n");
			}
		}
		if (a->total_changes > a->n_changes)
			strbuf_printf(b, "  ... and %zu more changes\n",
				      a->total_changes - a->n_changes);
		put_resolve(b, a, false);
	}
	strbuf_puts(b, "\n-- \nschemadrift alert ");
	mime_put_text(b, a->id, NULL, false);
	strbuf_puts(b, "\n");
}

static void html_row(struct strbuf *b, const char *label, const char *value)
{
	if (!value)
		return;
	strbuf_printf(b, "<tr><th align=\"left\" style=\"padding-right:12px\">%s</th><td>", label);
	mime_put_text(b, value, NULL, true);
	strbuf_puts(b, "</td></tr>\n");
}

static const char *severity_colour(const char *s)
{
	if (s && strcmp(s, "breaking") == 0)
		return "#b00020";
	if (s && strcmp(s, "warning") == 0)
		return "#9a6700";
	return "#555555";
}

static void render_html(struct strbuf *b, const struct alert *a, const char *headline)
{
	const char *kind = alert_kind_name(a->kind);
	char line[128];

	strbuf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
	mime_put_text(b, headline, NULL, true);
	strbuf_puts(b, "</title></head>\n<body style=\"font-family:sans-serif\">\n<h2>");
	mime_put_text(b, headline, NULL, true);
	strbuf_puts(b, "</h2>\n<table>\n");
	html_row(b, "Target", a->target);
	html_row(b, "Environment", a->environment);
	html_row(b, "Alert", kind ? kind : "?");
	html_row(b, "Severity", severity_label(a->severity));
	if (a->kind == ALERT_DRIFT || a->total_changes > 0) {
		snprintf(line, sizeof(line), "%zu (%zu added, %zu removed, %zu modified)",
			 a->total_changes, a->by_type[0], a->by_type[1], a->by_type[2]);
		html_row(b, "Changes", line);
	}
	html_row(b, "Baseline", a->from_hash);
	html_row(b, "Current", a->to_hash);
	strbuf_puts(b, "</table>\n");
	if (a->link) {
		/* Only web links become anchors: a template can never produce javascript: here. */
		if (link_is_http(a->link)) {
			strbuf_puts(b, "<p><a href=\"");
			mime_put_text(b, a->link, NULL, true);
			strbuf_puts(b, "\">");
			mime_put_text(b, a->link, NULL, true);
			strbuf_puts(b, "</a></p>\n");
		} else {
			strbuf_puts(b, "<p>");
			mime_put_text(b, a->link, NULL, true);
			strbuf_puts(b, "</p>\n");
		}
	}
	if (a->message) {
		strbuf_puts(b, "<pre style=\"white-space:pre-wrap\">");
		mime_put_text(b, a->message, "", true);
		strbuf_puts(b, "</pre>\n");
	}
	if (a->attribution) {
		strbuf_puts(b, "<p>");
		mime_put_text(b, a->attribution, NULL, true);
		strbuf_puts(b, "</p>\n");
	}
	if (a->n_changes > 0) {
		strbuf_puts(b, "<table border=\"1\" cellpadding=\"4\" "
			    "style=\"border-collapse:collapse\">\n"
			    "<tr><th>Severity</th><th>Change</th><th>Kind</th><th>Object</th>"
			    "<th>Attribute</th><th>Before</th><th>After</th></tr>\n");
		for (size_t i = 0; i < a->n_changes; i++) {
			const struct alert_change *c = &a->changes[i];

			strbuf_printf(b, "<tr><td style=\"color:%s\">", severity_colour(c->severity));
			mime_put_text(b, c->severity, NULL, true);
			strbuf_puts(b, "</td><td>");
			mime_put_text(b, c->change, NULL, true);
			strbuf_puts(b, "</td><td>");
			mime_put_text(b, c->kind, NULL, true);
			strbuf_puts(b, "</td><td><code>");
			mime_put_text(b, c->object, NULL, true);
			strbuf_puts(b, "</code></td><td>");
			mime_put_text(b, c->attribute, NULL, true);
			strbuf_puts(b, "</td><td><pre style=\"white-space:pre-wrap;margin:0\">");
			mime_put_text(b, c->before, "", true);
			strbuf_puts(b, "</pre></td><td><pre style=\"white-space:pre-wrap;margin:0\">");
			mime_put_text(b, c->after, "", true);
			strbuf_puts(b, "</pre></td></tr>\n");
			if (c->attribution) {
				strbuf_puts(b, "<tr><td></td><td colspan=\"6\"><em>");
				mime_put_text(b, c->attribution, NULL, true);
				strbuf_puts(b, "</em></td></tr>\n");
			}
			for (int k = 0; k < 2; k++) {
				const char *sql = k ? c->revert_sql : c->definition;

				if (!sql)
					continue;
				strbuf_puts(b, "<tr><td></td><td colspan=\"6\">");
				strbuf_puts(b, k ? "revert: " : "");
				strbuf_puts(b, "<pre style=\"white-space:pre-wrap;margin:0\">");
				mime_put_text(b, sql, "", true);
				strbuf_puts(b, "</pre></td></tr>\n");
			}
		}
		strbuf_puts(b, "</table>\n");
		if (a->total_changes > a->n_changes)
			strbuf_printf(b, "<p>... and %zu more changes</p>\n",
				      a->total_changes - a->n_changes);
		put_resolve(b, a, true);
	}
	strbuf_puts(b, "<p style=\"color:#888888\">schemadrift alert ");
	mime_put_text(b, a->id, NULL, true);
	strbuf_puts(b, "</p>\n</body></html>\n");
}

/*
 * The whole RFC 5322 message with CRLF line ends.  Deterministic for a given
 * alert and configuration (Date is when the alert was raised, the boundary
 * and Message-ID come from its id), so retries send the same message and
 * `schemadrift render` shows exactly what is sent.
 */
static int build_message(const struct smtp_conf *c, const struct alert *a, char **ret)
{
	struct strbuf b = { 0 }, boundary = { 0 }, plain = { 0 }, html = { 0 };
	char *headline_raw = alert_headline(a);
	char *headline = NULL, *subject = NULL, *msg;
	const char *kind = alert_kind_name(a->kind);
	int rc = -ENOMEM;

	if (!headline_raw)
		goto out;
	headline = mime_header_text(headline_raw);
	if (!headline)
		goto out;
	if (c->subject_prefix && c->subject_prefix[0]) {
		if (asprintf(&subject, "%s %s", c->subject_prefix, headline) < 0)
			subject = NULL;
	} else {
		subject = strdup(headline);
	}
	if (!subject)
		goto out;

	/* "=_" can never occur in quoted-printable output, so no body line matches it. */
	strbuf_puts(&boundary, "=_schemadrift_");
	put_id_token(&boundary, a->id);
	if (boundary.failed)
		goto out;

	strbuf_puts(&b, "Date: ");
	put_date(&b, a->created);
	strbuf_puts(&b, "\r\n");
	mime_put_address_header(&b, "From", &c->from, 1);
	mime_put_address_header(&b, "To", c->to, c->n_to);
	if (c->n_cc)
		mime_put_address_header(&b, "Cc", c->cc, c->n_cc);
	mime_put_unstructured_header(&b, "Subject", subject);
	strbuf_puts(&b, "Message-ID: <");
	put_id_token(&b, a->id);
	strbuf_printf(&b, "@%s>\r\n", c->msgid_host);
	strbuf_puts(&b, "Auto-Submitted: auto-generated\r\n");
	strbuf_printf(&b, "X-Schemadrift-Alert: %s\r\n", kind ? kind : "unknown");
	strbuf_puts(&b, "MIME-Version: 1.0\r\n");
	strbuf_printf(&b, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n", boundary.s);
	strbuf_puts(&b, "\r\nThis is a MIME message: a plain text and an HTML version.\r\n");

	render_plain(&plain, a, headline);
	render_html(&html, a, headline);
	if (plain.failed || html.failed)
		goto out;
	strbuf_printf(&b, "\r\n--%s\r\n", boundary.s);
	strbuf_puts(&b, "Content-Type: text/plain; charset=utf-8\r\n"
		    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	mime_put_quoted_printable(&b, plain.s);
	strbuf_printf(&b, "\r\n--%s\r\n", boundary.s);
	strbuf_puts(&b, "Content-Type: text/html; charset=utf-8\r\n"
		    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	mime_put_quoted_printable(&b, html.s);
	strbuf_printf(&b, "\r\n--%s--\r\n", boundary.s);
	msg = strbuf_take(&b);
	if (msg) {
		*ret = msg;
		rc = 0;
	}
out:
	strbuf_done(&b);
	strbuf_done(&boundary);
	strbuf_done(&plain);
	strbuf_done(&html);
	free(headline_raw);
	free(headline);
	free(subject);
	return rc;
}

/* ------------------------------------------------------------ the SMTP session */

/*
 * What the server answered before MAIL, read from libESMTP's protocol monitor:
 * libESMTP does not expose the greeting, STARTTLS or AUTH replies, and it
 * carries on without authentication when AUTH fails.  Only command verbs are
 * looked at on the way out; AUTH continuation lines (credentials) are skipped
 * unread.
 */
struct proto_track {
	char verb[16];	/* the command whose reply is awaited; "CONNECT" for the greeting */
	bool in_auth;	/* AUTH got 334: the next lines written are credentials */
	bool mail_sent; /* MAIL was written: from here on libESMTP's statuses say it all */
	bool auth_tried, auth_ok;
	int auth_code;
	char auth_text[160];
	char auth_offered[96]; /* the EHLO AUTH line after TLS, for the error */
	char fail_verb[16];    /* the last refused command before MAIL */
	int fail_code;
	char fail_text[160];
	int starttls_code; /* the reply to STARTTLS, 0 if it was not sent */
	char line[512];	   /* reply line being assembled */
	size_t line_len;
};

struct smtp_job {
	/* Inputs, copied so a job never points into a channel that may be gone. */
	char *hostport;
	char *host;
	bool starttls;
	char *ca_file;
	int timeout_s;
	char *username, *password;
	char *from;
	char **rcpt;
	size_t n_rcpt;
	char *message;
	size_t message_len, message_pos;

	/* On the loop side. */
	struct notify_channel *ch;
	notify_done_fn done;
	void *done_arg;

	/* Worker side. */
	struct proto_track tr;
	bool tls_ok; /* SMTP_EV_STARTTLS_OK */
	bool starttls_missing;
	bool cert_rejected;
	char tls_error[256];
	bool data_refused; /* the message callback refused to hand out the message */
	struct notify_result res;
};

static void job_free(void *arg)
{
	struct smtp_job *j = arg;

	if (!j)
		return;
	free(j->hostport);
	free(j->host);
	free(j->ca_file);
	free(j->username);
	ini_secret_free(j->password);
	free(j->from);
	for (size_t i = 0; i < j->n_rcpt; i++)
		free(j->rcpt[i]);
	free(j->rcpt);
	free(j->message);
	free(j);
}

/* Server text for a detail line: printable ASCII only, whitespace squeezed. */
static void clean_copy(char *dst, size_t size, const char *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && src[i] && o + 1 < size; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\r' || c == '\n')
			continue;
		dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[o] = '\0';
}

static void track_reply_line(struct smtp_job *j, const char *line, size_t n)
{
	struct proto_track *t = &j->tr;
	int code;
	bool more;

	if (n < 3 || !isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	more = n > 3 && line[3] == '-';
	if (strcmp(t->verb, "EHLO") == 0 && n > 9 && strncasecmp(line + 4, "AUTH", 4) == 0 &&
	    (line[8] == ' ' || line[8] == '='))
		clean_copy(t->auth_offered, sizeof(t->auth_offered), line + 4, n - 4);
	if (more)
		return;
	if (strcmp(t->verb, "AUTH") == 0) {
		t->in_auth = code == 334;
		if (code / 100 == 2) {
			t->auth_ok = true;
		} else if (code != 334) {
			t->auth_code = code;
			clean_copy(t->auth_text, sizeof(t->auth_text), line, n);
		}
		return;
	}
	if (strcmp(t->verb, "STARTTLS") == 0)
		t->starttls_code = code;
	if (code >= 400) {
		snprintf(t->fail_verb, sizeof(t->fail_verb), "%s", t->verb);
		t->fail_code = code;
		clean_copy(t->fail_text, sizeof(t->fail_text), line, n);
	}
}

static void on_monitor(const char *buf, int len, int writing, void *arg)
{
	struct smtp_job *j = arg;
	struct proto_track *t = &j->tr;

	if (t->mail_sent || len <= 0)
		return;
	if (writing == SMTP_CB_WRITING) {
		size_t n = 0;

		if (t->in_auth)
			return; /* a SASL response: credentials, never looked at */
		while (n < (size_t)len && n + 1 < sizeof(t->verb) &&
		       isalpha((unsigned char)buf[n])) {
			t->verb[n] = (char)toupper((unsigned char)buf[n]);
			n++;
		}
		t->verb[n] = '\0';
		if (strcmp(t->verb, "AUTH") == 0)
			t->auth_tried = true;
		if (strcmp(t->verb, "MAIL") == 0)
			t->mail_sent = true;
		return;
	}
	if (writing != SMTP_CB_READING)
		return;
	for (int i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			track_reply_line(j, t->line, t->line_len);
			t->line_len = 0;
		} else if (t->line_len + 1 < sizeof(t->line)) {
			t->line[t->line_len++] = buf[i];
		}
	}
}

static void tls_fail(struct smtp_job *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void tls_fail(struct smtp_job *j, const char *fmt, ...)
{
	va_list ap;

	j->cert_rejected = true;
	if (j->tls_error[0])
		return; /* the first reason is the useful one */
	va_start(ap, fmt);
	vsnprintf(j->tls_error, sizeof(j->tls_error), fmt, ap);
	va_end(ap);
}

static void on_event(smtp_session_t session, int event_no, void *arg, ...)
{
	struct smtp_job *j = arg;
	va_list ap;

	(void)session;
	va_start(ap, arg);
	switch (event_no) {
	case SMTP_EV_CONNECT:
		/* A new connection (libESMTP tries each address in turn): start over. */
		memset(&j->tr, 0, sizeof(j->tr));
		strcpy(j->tr.verb, "CONNECT");
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		j->starttls_missing = true;
		break;
	case SMTP_EV_STARTTLS_OK:
		j->tls_ok = true;
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE: {
		long result = va_arg(ap, long);
		int *ok = va_arg(ap, int *);

		*ok = 0;
		tls_fail(j, "certificate verification failed: %s",
			 X509_verify_cert_error_string(result));
		break;
	}
	case SMTP_EV_NO_PEER_CERTIFICATE: {
		int *ok = va_arg(ap, int *);

		*ok = 0;
		tls_fail(j, "the server presented no certificate");
		break;
	}
	case SMTP_EV_WRONG_PEER_CERTIFICATE: {
		int *ok = va_arg(ap, int *);
		const char *name = va_arg(ap, const char *);
		SSL *ssl = va_arg(ap, SSL *);

		/*
		 * libESMTP's own name check knows DNS names only.  OpenSSL has
		 * already checked the certificate against the configured host (name
		 * or IP address, X509_VERIFY_PARAM_set1_host/ip) and would have
		 * failed the handshake: accept only what it verified.
		 */
		*ok = ssl && SSL_get_verify_result(ssl) == X509_V_OK;
		if (!*ok) {
			char shown[128];

			clean_copy(shown, sizeof(shown), name ? name : "", 127);
			tls_fail(j, "the certificate is for '%s', not '%s'", shown, j->host);
		}
		break;
	}
	case SMTP_EV_WEAK_CIPHER: {
		int bits = va_arg(ap, int);
		int *ok = va_arg(ap, int *);

		*ok = 0;
		tls_fail(j, "weak cipher (%d bits)", bits);
		break;
	}
	case SMTP_EV_NO_CLIENT_CERTIFICATE: {
		int *ok = va_arg(ap, int *);

		*ok = 0;
		tls_fail(j, "unusable client certificate in libESMTP's per-user directory");
		break;
	}
	case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
	case SMTP_EV_UNUSABLE_CA_LIST:
		tls_fail(j, "unusable certificate files in libESMTP's per-user directory");
		break;
	default:
		break;
	}
	va_end(ap);
}

/* OpenSSL's chain and name verification; the first failure is kept for the report. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *x)
{
	SSL *ssl;
	struct smtp_job *j;

	if (preverify_ok)
		return 1;
	ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	j = ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
	if (j) {
		X509 *cert = X509_STORE_CTX_get_current_cert(x);
		char subject[160] = "";

		if (cert)
			X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
		clean_copy(subject, sizeof(subject), subject, sizeof(subject));
		tls_fail(j, "certificate verification failed: %s (depth %d, subject %s)",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)),
			 X509_STORE_CTX_get_error_depth(x), subject[0] ? subject : "?");
	}
	return 0;
}

static int auth_interact(auth_client_request_t req, char **result, int fields, void *arg)
{
	struct smtp_job *j = arg;

	for (int i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = j->username;
		else if (req[i].flags & AUTH_PASS)
			result[i] = j->password;
		else if (req[i].flags & AUTH_REALM)
			result[i] = (char *)"";
		else
			return 0;
	}
	return 1;
}

/*
 * libESMTP reads the message through this.  It is also the last gate: the
 * DATA phase is reached even when AUTH failed (libESMTP then goes on
 * unauthenticated), so the message is refused here unless the session is
 * what the configuration demands.  Returning NULL with errno set makes
 * libESMTP drop the connection without the final ".", so the server discards
 * the message.
 */
static const char *message_cb(void **ctx, int *len, void *arg)
{
	struct smtp_job *j = arg;

	(void)ctx;
	if (!len) {
		j->message_pos = 0;
		return NULL;
	}
	if ((j->starttls && !j->tls_ok) || (j->username && !j->tr.auth_ok)) {
		j->data_refused = true;
		*len = 0;
		errno = EACCES;
		return NULL;
	}
	*len = (int)(j->message_len - j->message_pos);
	if (*len == 0)
		return NULL;
	j->message_pos = j->message_len;
	return j->message;
}

static void set_result(struct smtp_job *j, enum notify_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_result(struct smtp_job *j, enum notify_status st, const char *fmt, ...)
{
	va_list ap;

	j->res.status = st;
	j->res.retry_after_s = 0;
	va_start(ap, fmt);
	vsnprintf(j->res.detail, sizeof(j->res.detail), fmt, ap);
	va_end(ap);
}

static enum notify_status by_code(int code)
{
	return code >= 500 && code < 600 ? NOTIFY_FAILED : NOTIFY_RETRY;
}

static const char *status_text(const smtp_status_t *st, char *buf, size_t size)
{
	clean_copy(buf, size, st && st->text ? st->text : "", size);
	return buf;
}

/* Appends "addr (code text)" for every recipient not accepted. */
static size_t list_refused(struct smtp_job *j, smtp_recipient_t *rcpt, char *out, size_t size,
			   bool *any_temporary)
{
	size_t used = 0, refused = 0;

	out[0] = '\0';
	for (size_t i = 0; i < j->n_rcpt; i++) {
		const smtp_status_t *st = smtp_recipient_status(rcpt[i]);
		char text[96];

		if (st && st->code >= 200 && st->code < 300)
			continue;
		refused++;
		if (!st || st->code < 500)
			*any_temporary = true;
		if (used < size)
			used += (size_t)snprintf(
				out + used, size - used, "%s%s (%d %s)", refused > 1 ? ", " : "",
				j->rcpt[i], st ? st->code : 0, status_text(st, text, sizeof(text)));
	}
	return refused;
}

/*
 * What happened, from the most specific cause to the least: libESMTP's
 * smtp_start_session() returns success for a session in which the server
 * refused the message, so only the statuses say whether it was accepted.
 */
static void classify(struct smtp_job *j, int session_ok, int smtp_err, smtp_message_t msg,
		     smtp_recipient_t *rcpt)
{
	const smtp_status_t *ms = smtp_message_transfer_status(msg);
	const smtp_status_t *rp = smtp_reverse_path_status(msg);
	struct proto_track *t = &j->tr;
	char why[160], text[160], refused[256];
	bool temporary = false;
	size_t n_refused;

	smtp_strerror(smtp_err, why, sizeof(why));
	n_refused = list_refused(j, rcpt, refused, sizeof(refused), &temporary);

	if (ms && ms->code >= 200 && ms->code < 300 && n_refused < j->n_rcpt) {
		if (n_refused == 0)
			set_result(j, NOTIFY_DELIVERED, "%s: accepted: %d %s", j->hostport,
				   ms->code, status_text(ms, text, sizeof(text)));
		else
			set_result(j, NOTIFY_DELIVERED,
				   "%s: accepted for %zu of %zu recipients (%d %s); refused: %s",
				   j->hostport, j->n_rcpt - n_refused, j->n_rcpt, ms->code,
				   status_text(ms, text, sizeof(text)), refused);
		return;
	}
	if (j->cert_rejected) {
		set_result(j, NOTIFY_FAILED, "%s: TLS certificate rejected, nothing sent: %s%s",
			   j->hostport, j->tls_error,
			   j->ca_file ? "" : " (for a private CA, set ca_file to its certificate)");
		return;
	}
	if (j->starttls_missing) {
		set_result(j, NOTIFY_FAILED,
			   "%s: the server does not offer STARTTLS; refusing to send in clear "
			   "text (set starttls = none to allow it)",
			   j->hostport);
		return;
	}
	if (j->starttls && t->starttls_code != 0 && t->starttls_code != 220) {
		set_result(j, by_code(t->starttls_code), "%s: STARTTLS refused: %s", j->hostport,
			   t->fail_text);
		return;
	}
	if (j->starttls && t->starttls_code == 220 && !j->tls_ok) {
		unsigned long e = ERR_peek_last_error();
		char ssl_why[160] = "connection closed";

		if (e)
			ERR_error_string_n(e, ssl_why, sizeof(ssl_why));
		set_result(j, NOTIFY_RETRY, "%s: TLS handshake failed: %s", j->hostport, ssl_why);
		return;
	}
	if (j->username && !t->auth_ok && (t->mail_sent || j->data_refused || t->auth_tried)) {
		/* Kept for a retry: a password is fixed by the operator, then it goes. */
		if (t->auth_code)
			set_result(j, NOTIFY_RETRY, "%s: authentication as '%s' failed: %s",
				   j->hostport, j->username, t->auth_text);
		else if (t->auth_tried)
			set_result(j, NOTIFY_RETRY, "%s: authentication as '%s' got no answer: %s",
				   j->hostport, j->username, why);
		else
			set_result(j, NOTIFY_RETRY,
				   "%s: the server offered no usable AUTH mechanism (%s); not "
				   "sending unauthenticated",
				   j->hostport, t->auth_offered[0] ? t->auth_offered : "no AUTH");
		return;
	}
	if (!t->mail_sent) {
		if (t->fail_code)
			set_result(j, by_code(t->fail_code), "%s: %s refused: %s", j->hostport,
				   strcmp(t->fail_verb, "CONNECT") == 0 ? "session" : t->fail_verb,
				   t->fail_text);
		else
			set_result(j, NOTIFY_RETRY, "%s: cannot talk to the server: %s",
				   j->hostport, session_ok && !smtp_err ? "no reply" : why);
		return;
	}
	if (rp && rp->code >= 400) {
		set_result(j, by_code(rp->code), "%s: MAIL FROM:<%s> refused: %d %s", j->hostport,
			   j->from, rp->code, status_text(rp, text, sizeof(text)));
		return;
	}
	if (n_refused == j->n_rcpt) {
		set_result(j, temporary ? NOTIFY_RETRY : NOTIFY_FAILED,
			   "%s: no recipient accepted: %s", j->hostport, refused);
		return;
	}
	if (ms && ms->code >= 400) {
		set_result(j, by_code(ms->code), "%s: message refused: %d %s", j->hostport,
			   ms->code, status_text(ms, text, sizeof(text)));
		return;
	}
	set_result(j, NOTIFY_RETRY,
		   "%s: connection lost before the server accepted the message: %s", j->hostport,
		   why);
}

static SSL_CTX *make_tls_ctx(struct smtp_job *j)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_VERIFY_PARAM *param;
	struct in_addr a4;
	bool ok;

	if (!ctx)
		return NULL;
	/*
	 * TLS 1.2 exactly.  A TLS 1.3 server sends its session tickets after the
	 * handshake; libESMTP 1.1 then sees the socket readable, reads before it
	 * has flushed the EHLO that must follow STARTTLS, and both sides wait
	 * until the timeout (seen with Python's and, per reports, Outlook's
	 * servers).  TLS 1.2 delivers its ticket inside the handshake.
	 */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_app_data(ctx, j);
	if (j->ca_file)
		ok = SSL_CTX_load_verify_locations(ctx, j->ca_file, NULL) == 1;
	else
		ok = SSL_CTX_set_default_verify_paths(ctx) == 1;
	param = SSL_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (ok && inet_pton(AF_INET, j->host, &a4) == 1)
		ok = X509_VERIFY_PARAM_set1_ip_asc(param, j->host) == 1;
	else if (ok)
		ok = X509_VERIFY_PARAM_set1_host(param, j->host, 0) == 1;
	if (!ok) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void init_auth_client(void)
{
	auth_client_init();
}

/* On the worker thread: one blocking SMTP session. */
static void job_run(void *arg)
{
	static pthread_once_t auth_once = PTHREAD_ONCE_INIT;
	struct smtp_job *j = arg;
	smtp_session_t session = NULL;
	smtp_message_t msg;
	smtp_recipient_t *rcpt = NULL;
	auth_context_t auth = NULL;
	SSL_CTX *ctx = NULL;
	long ms = (long)j->timeout_s * 1000;
	int ok, smtp_err;

	ERR_clear_error();
	strcpy(j->tr.verb, "CONNECT");
	pthread_once(&auth_once, init_auth_client);
	session = smtp_create_session();
	rcpt = calloc(j->n_rcpt ? j->n_rcpt : 1, sizeof(*rcpt));
	if (!session || !rcpt || !(msg = smtp_add_message(session)) ||
	    !smtp_set_server(session, j->hostport)) {
		set_result(j, NOTIFY_RETRY, "%s: out of memory", j->hostport);
		goto out;
	}
	for (int which = Timeout_GREETING; which <= Timeout_DATA2; which++)
		smtp_set_timeout(session, which | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
	smtp_set_eventcb(session, on_event, j);
	smtp_set_monitorcb(session, on_monitor, j, 0);
	if (j->starttls) {
		ctx = make_tls_ctx(j);
		if (!ctx) {
			char why[160] = "out of memory";
			unsigned long e = ERR_peek_last_error();

			if (e)
				ERR_error_string_n(e, why, sizeof(why));
			set_result(j, NOTIFY_RETRY, "%s: cannot set up TLS%s%s: %s", j->hostport,
				   j->ca_file ? " with ca_file " : "", j->ca_file ? j->ca_file : "",
				   why);
			goto out;
		}
		smtp_starttls_set_ctx(session, ctx);
		smtp_starttls_enable(session, Starttls_REQUIRED);
	} else {
		smtp_starttls_enable(session, Starttls_DISABLED);
	}
	if (j->username) {
		auth = auth_create_context();
		if (!auth) {
			set_result(j, NOTIFY_RETRY, "%s: out of memory", j->hostport);
			goto out;
		}
		/* PLAIN and LOGIN send the password as it is: over TLS unless starttls = none. */
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, auth_interact, j);
		smtp_auth_set_context(session, auth);
	}
	smtp_set_reverse_path(msg, j->from);
	smtp_set_messagecb(msg, message_cb, j);
	for (size_t i = 0; i < j->n_rcpt; i++) {
		rcpt[i] = smtp_add_recipient(msg, j->rcpt[i]);
		if (!rcpt[i]) {
			set_result(j, NOTIFY_RETRY, "%s: out of memory", j->hostport);
			goto out;
		}
	}
	ok = smtp_start_session(session);
	smtp_err = smtp_errno();
	classify(j, ok, smtp_err, msg, rcpt);
out:
	if (session)
		smtp_destroy_session(session);
	if (auth)
		auth_destroy_context(auth);
	SSL_CTX_free(ctx); /* libESMTP holds its own reference while the session lives */
	free(rcpt);
	ERR_clear_error();
}

/* On the loop's thread. */
static void job_done(void *arg)
{
	struct smtp_job *j = arg;

	j->done(j->ch, &j->res, j->done_arg);
	job_free(j);
}

/* ------------------------------------------------------------- the backend */

static int smtp_configure(struct notify_channel *ch, const struct ini_section *s,
			  struct error *err)
{
	struct smtp_state *st = calloc(1, sizeof(*st));
	int rc;

	if (!st)
		return error_set(err, -ENOMEM, "out of memory");
	rc = smtp_read_conf(s, &st->conf, err);
	if (rc < 0) {
		conf_done(&st->conf);
		free(st);
		return rc;
	}
	ch->state = st;
	return 0;
}

/* `schemadrift render --channel smtp` has no configuration: placeholder addresses. */
static int default_conf(struct smtp_conf *c)
{
	const char *why;

	memset(c, 0, sizeof(*c));
	c->to = calloc(1, sizeof(*c->to));
	c->subject_prefix = strdup(SMTP_DEFAULT_PREFIX);
	c->msgid_host = local_msgid_host();
	if (!c->to || !c->subject_prefix || !c->msgid_host)
		return -ENOMEM;
	c->n_to = 1;
	if (mime_mailbox_parse("schemadrift <schemadrift@example.invalid>", 41, &c->from, &why) < 0 ||
	    mime_mailbox_parse("recipient@example.invalid", 25, &c->to[0], &why) < 0)
		return -ENOMEM;
	return 0;
}

static int smtp_render(struct notify_channel *ch, const struct alert *a, char **ret_body,
		       struct error *err)
{
	struct smtp_state *st = ch->state;
	struct smtp_conf placeholder;
	int rc;

	if (st) {
		rc = build_message(&st->conf, a, ret_body);
	} else {
		rc = default_conf(&placeholder);
		if (rc == 0)
			rc = build_message(&placeholder, a, ret_body);
		conf_done(&placeholder);
	}

	if (rc < 0)
		return error_set(err, rc, "notifier %s: cannot build the message: %s", ch->name,
				 strerror(-rc));
	return 0;
}

static char *rcpt_dup(const struct mime_mailbox *m)
{
	return strdup(m->addr);
}

static int smtp_send(struct notify_channel *ch, const struct alert *a, notify_done_fn done,
		     void *arg)
{
	struct smtp_state *st = ch->state;
	const struct smtp_conf *c = &st->conf;
	struct smtp_job *j;
	int rc;

	if (!st->worker) {
		if (!ch->env || !ch->env->base)
			return -EINVAL;
		rc = worker_new(ch->env->base, 1, &st->worker, NULL);
		if (rc < 0)
			return rc;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->ch = ch;
	j->done = done;
	j->done_arg = arg;
	j->starttls = c->tls == SMTP_STARTTLS_REQUIRED;
	j->timeout_s = c->timeout_s;
	j->n_rcpt = c->n_to + c->n_cc;
	rc = -ENOMEM;
	if (asprintf(&j->hostport, "%s:%ld", c->host, c->port) < 0) {
		j->hostport = NULL;
		goto fail;
	}
	j->host = strdup(c->host);
	j->from = strdup(c->from.addr);
	j->rcpt = calloc(j->n_rcpt, sizeof(*j->rcpt));
	if (!j->host || !j->from || !j->rcpt)
		goto fail;
	for (size_t i = 0; i < c->n_to; i++)
		if (!(j->rcpt[i] = rcpt_dup(&c->to[i])))
			goto fail;
	for (size_t i = 0; i < c->n_cc; i++)
		if (!(j->rcpt[c->n_to + i] = rcpt_dup(&c->cc[i])))
			goto fail;
	if ((c->ca_file && !(j->ca_file = strdup(c->ca_file))) ||
	    (c->username && !(j->username = strdup(c->username))) ||
	    (c->password && !(j->password = strdup(c->password))))
		goto fail;
	rc = build_message(c, a, &j->message);
	if (rc < 0)
		goto fail;
	j->message_len = strlen(j->message);
	rc = worker_submit(st->worker, job_run, job_done, job_free, j);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	job_free(j);
	return rc;
}

static void smtp_destroy(struct notify_channel *ch)
{
	struct smtp_state *st = ch->state;

	if (!st)
		return;
	/* A session still running finishes on its thread and is dropped unreported. */
	worker_free(st->worker);
	conf_done(&st->conf);
	free(st);
	ch->state = NULL;
}

const struct notify_backend notify_smtp_backend = {
	.name = "smtp",
	.keys = smtp_keys,
	.n_keys = sizeof(smtp_keys) / sizeof(smtp_keys[0]),
	.configure = smtp_configure,
	.render = smtp_render,
	.send = smtp_send,
	.destroy = smtp_destroy,
};
