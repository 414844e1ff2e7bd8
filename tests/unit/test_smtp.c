/* Unit tests for the smtp notifier's message (headers, RFC 2047, MIME, CRLF) and for lib/worker. */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "alert.h"
#include "ini.h"
#include "notify.h"
#include "worker.h"

#define BASE_CONF                                                                                  \
	"[notifier mail]\n"                                                                        \
	"type = smtp\n"                                                                            \
	"host = smtp.example.test\n"                                                               \
	"from = Schemadrift <alerts@example.test>\n"                                               \
	"to = oncall@example.test, dba@example.test\n"                                             \
	"cc = audit@example.test\n"

/* 63 bytes: 31 two-byte characters and one ASCII letter. */
#define NAME63                                                                                     \
	"\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"                 \
	"\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"                 \
	"\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"                 \
	"\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbcx"

/* ------------------------------------------------------------------ helpers */

struct fixture {
	struct ini *conf;
	struct notify_env env;
	struct notify_channel *ch;
};

static int open_channel(const char *text, struct fixture *f, struct error *err)
{
	const struct ini_section *s;
	int rc;

	memset(f, 0, sizeof(*f));
	rc = ini_parse(text, strlen(text), "/etc/schemadrift/test.conf", &f->conf, err);
	if (rc < 0)
		return rc;
	s = ini_find(f->conf, "notifier", "mail");
	ck_assert_ptr_nonnull(s);
	return notify_channel_new(&f->env, s, &f->ch, err);
}

static void close_channel(struct fixture *f)
{
	notify_channel_free(f->ch);
	ini_free(f->conf);
}

static char *xstrdup(const char *s)
{
	char *r = s ? strdup(s) : NULL;

	ck_assert(!s || r);
	return r;
}

static void set_str(char **field, const char *s)
{
	free(*field);
	*field = xstrdup(s);
}

static void add_change(struct alert *a, const char *change, const char *sev, const char *kind,
		       const char *object, const char *attr, const char *before, const char *after)
{
	struct alert_change *c;

	a->changes = realloc(a->changes, (a->n_changes + 1) * sizeof(*a->changes));
	ck_assert_ptr_nonnull(a->changes);
	c = &a->changes[a->n_changes++];
	memset(c, 0, sizeof(*c));
	c->change = xstrdup(change);
	c->severity = xstrdup(sev);
	c->kind = xstrdup(kind);
	c->object = xstrdup(object);
	c->attribute = xstrdup(attr);
	c->before = xstrdup(before);
	c->after = xstrdup(after);
}

/* Strings set directly, as an alert read back from the outbox carries them. */
static struct alert *drift_alert(const char *target)
{
	struct alert *a = NULL;

	ck_assert_int_eq(alert_new(ALERT_DRIFT, target, &a), 0);
	set_str(&a->id, "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
	set_str(&a->environment, "production");
	a->severity = DIFF_BREAKING;
	a->created = 1700000000; /* Tue, 14 Nov 2023 22:13:20 +0000 */
	a->by_type[0] = 1;
	a->by_type[1] = 1;
	a->by_type[2] = 2;
	a->by_severity[DIFF_INFO] = 1;
	a->by_severity[DIFF_WARNING] = 1;
	a->by_severity[DIFF_BREAKING] = 2;
	a->total_changes = 6;
	set_str(&a->from_hash, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	set_str(&a->to_hash, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	add_change(a, "removed", "breaking", "column", "public.orders.total", NULL, NULL, NULL);
	add_change(a, "modified", "breaking", "column", "public.orders.note", "type", "text",
		   "character varying(20)");
	add_change(a, "modified", "warning", "view", "public.v_orders", "definition",
		   " SELECT id\n   FROM orders;", " SELECT id, note\n   FROM orders;");
	add_change(a, "added", "info", "index", "public.orders_note_idx", NULL, NULL, NULL);
	return a;
}

static char *render(struct fixture *f, const struct alert *a)
{
	struct error err = { 0 };
	char *msg = NULL;

	ck_assert_msg(f->ch->backend->render(f->ch, a, &msg, &err) == 0, "render: %s", err.text);
	ck_assert_ptr_nonnull(msg);
	return msg;
}

/* A parsed message: unfolded headers, the body after the blank line. */
struct header {
	char name[64];
	char *value; /* unfolded */
};

struct message {
	struct header h[64];
	size_t n;
	const char *body;
};

static void parse_message(const char *msg, struct message *m)
{
	const char *p = msg;

	memset(m, 0, sizeof(*m));
	while (strncmp(p, "\r\n", 2) != 0) {
		const char *colon = strchr(p, ':');
		const char *end;
		struct header *h;
		size_t cap = 0, len = 0;

		ck_assert_msg(colon && !isspace((unsigned char)*p), "bad header line at: %.40s", p);
		ck_assert_uint_lt(m->n, 64);
		h = &m->h[m->n++];
		ck_assert_uint_lt((size_t)(colon - p), sizeof(h->name));
		memcpy(h->name, p, (size_t)(colon - p));
		p = colon + 1;
		while (*p == ' ')
			p++;
		for (;;) {
			end = strstr(p, "\r\n");
			ck_assert_ptr_nonnull(end);
			cap += (size_t)(end - p) + 2;
			h->value = realloc(h->value, cap + 1);
			memcpy(h->value + len, p, (size_t)(end - p));
			len += (size_t)(end - p);
			h->value[len] = '\0';
			p = end + 2;
			if (*p != ' ' && *p != '\t')
				break;
			/* unfolding (RFC 5322 2.2.3) removes the CRLF, keeps the blank */
		}
	}
	m->body = p + 2;
}

static void message_done(struct message *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->h[i].value);
}

static const char *header(const struct message *m, const char *name, size_t *count)
{
	const char *v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		if (strcasecmp(m->h[i].name, name) == 0) {
			v = m->h[i].value;
			n++;
		}
	if (count)
		*count = n;
	return v;
}

static int b64_value(char c)
{
	const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

/* RFC 2047 decoding of a header value made of B-encoded UTF-8 words or plain text. */
static char *decode_2047(const char *v)
{
	char *out = calloc(1, strlen(v) + 1);
	size_t o = 0;
	const char *p = v;
	bool last_word = false;

	ck_assert_ptr_nonnull(out);
	while (*p) {
		if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
			const char *end = strstr(p + 10, "?=");
			unsigned long acc = 0;
			int bits = 0;

			ck_assert_ptr_nonnull(end);
			/* whitespace between two encoded-words is not part of the text */
			if (last_word)
				while (o > 0 && out[o - 1] == ' ')
					o--;
			for (const char *q = p + 10; q < end; q++) {
				int val = b64_value(*q);

				if (*q == '=')
					break;
				ck_assert_int_ge(val, 0);
				acc = (acc << 6) | (unsigned long)val;
				bits += 6;
				if (bits >= 8) {
					bits -= 8;
					out[o++] = (char)((acc >> bits) & 0xff);
				}
			}
			p = end + 2;
			last_word = true;
			continue;
		}
		if (*p != ' ')
			last_word = false;
		out[o++] = *p++;
	}
	out[o] = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Quoted-printable to text with "\n" line ends; checks the encoding on the way. */
static char *decode_qp(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0, col = 0;

	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r') {
			ck_assert_msg(i + 1 < n && s[i + 1] == '\n', "bare CR in a QP body");
			ck_assert_msg(i == 0 || (s[i - 1] != ' ' && s[i - 1] != '\t'),
				      "unencoded blank at the end of a QP line");
			out[o++] = '\n';
			i++;
			col = 0;
			continue;
		}
		ck_assert_msg(c != '\n', "bare LF in a QP body");
		ck_assert_msg(c >= 0x20 && c < 0x7f, "raw byte 0x%02x in a QP body", c);
		col++;
		ck_assert_msg(col <= 76, "QP line longer than 76");
		if (c == '=') {
			if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
				i += 2;
				col = 0;
				continue;
			}
			ck_assert(i + 2 < n);
			ck_assert_int_ge(hexval(s[i + 1]), 0);
			ck_assert_int_ge(hexval(s[i + 2]), 0);
			out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
			col += 2;
			continue;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

/* The decoded text/plain and text/html parts of a multipart/alternative message. */
static void parts(const struct message *m, char **plain, char **html)
{
	const char *ct = header(m, "Content-Type", NULL);
	const char *bp, *p;
	char boundary[128], delim[140];
	size_t blen;

	*plain = *html = NULL;
	ck_assert_ptr_nonnull(ct);
	ck_assert_msg(strncmp(ct, "multipart/alternative;", 22) == 0, "Content-Type: %s", ct);
	bp = strstr(ct, "boundary=\"");
	ck_assert_ptr_nonnull(bp);
	bp += 10;
	blen = strcspn(bp, "\"");
	ck_assert_uint_lt(blen, sizeof(boundary));
	memcpy(boundary, bp, blen);
	boundary[blen] = '\0';
	snprintf(delim, sizeof(delim), "\r\n--%s", boundary);

	p = strstr(m->body, delim);
	ck_assert_ptr_nonnull(p);
	for (;;) {
		const char *start = p + strlen(delim), *next, *hdr_end, *type;

		if (strncmp(start, "--", 2) == 0)
			break; /* closing delimiter */
		ck_assert(strncmp(start, "\r\n", 2) == 0);
		start += 2;
		next = strstr(start, delim);
		ck_assert_msg(next != NULL, "unterminated part");
		hdr_end = strstr(start, "\r\n\r\n");
		ck_assert(hdr_end && hdr_end < next);
		type = strstr(start, "Content-Type: ");
		ck_assert(type && type < hdr_end);
		ck_assert_msg(strstr(start, "Content-Transfer-Encoding: quoted-printable\r\n") <
				      hdr_end,
			      "part is not quoted-printable");
		if (strncmp(type + 14, "text/plain; charset=utf-8", 25) == 0)
			*plain = decode_qp(hdr_end + 4, (size_t)(next - hdr_end - 4 + 2));
		else if (strncmp(type + 14, "text/html; charset=utf-8", 24) == 0)
			*html = decode_qp(hdr_end + 4, (size_t)(next - hdr_end - 4 + 2));
		else
			ck_abort_msg("unexpected part %.40s", type);
		p = next;
	}
	ck_assert_msg(*plain && *html, "both parts must be present");
}

/* Every line ends in CRLF, nothing but 7-bit text, no line over the limits. */
static void check_wire_form(const char *msg)
{
	size_t col = 0;
	bool in_headers = true;
	const char *line = msg;

	for (const char *p = msg; *p; p++) {
		unsigned char c = (unsigned char)*p;

		ck_assert_msg(c < 0x80, "8-bit byte at offset %td", p - msg);
		if (c == '\r') {
			ck_assert_msg(p[1] == '\n', "bare CR at offset %td", p - msg);
			if (in_headers)
				ck_assert_msg(col <= 78, "header line over 78: %.*s", (int)col,
					      line);
			else
				ck_assert_msg(col <= 76, "body line over 76: %.*s", (int)col, line);
			if (col == 0)
				in_headers = false;
			col = 0;
			p++;
			line = p + 1;
			continue;
		}
		ck_assert_msg(c != '\n', "bare LF at offset %td", p - msg);
		ck_assert_msg(c >= 0x20 || c == '\t', "control byte 0x%02x at offset %td", c,
			      p - msg);
		col++;
	}
	ck_assert_msg(col == 0, "the message does not end in CRLF");
}

static const char *const allowed_headers[] = {
	"Date",
	"From",
	"To",
	"Cc",
	"Subject",
	"Message-ID",
	"Auto-Submitted",
	"X-Schemadrift-Alert",
	"MIME-Version",
	"Content-Type",
	NULL,
};

static void check_header_set(const struct message *m, bool with_cc)
{
	for (size_t i = 0; i < m->n; i++) {
		bool ok = false;

		for (size_t k = 0; allowed_headers[k]; k++)
			ok = ok || strcmp(m->h[i].name, allowed_headers[k]) == 0;
		ck_assert_msg(ok, "unexpected header '%s'", m->h[i].name);
	}
	for (size_t k = 0; allowed_headers[k]; k++) {
		size_t count;

		header(m, allowed_headers[k], &count);
		if (!with_cc && strcmp(allowed_headers[k], "Cc") == 0)
			ck_assert_uint_eq(count, 0);
		else
			ck_assert_msg(count == 1, "%s appears %zu times", allowed_headers[k],
				      count);
	}
}

/* ------------------------------------------------------------------ message */

START_TEST(test_headers_and_parts)
{
	struct fixture f;
	struct error err = { 0 };
	struct alert *a = drift_alert("billing");
	struct message m;
	char *msg, *subject, *plain, *html, *headline;
	char expected[512];

	ck_assert_msg(open_channel(BASE_CONF, &f, &err) == 0, "%s", err.text);
	msg = render(&f, a);
	check_wire_form(msg);
	parse_message(msg, &m);
	check_header_set(&m, true);

	ck_assert_str_eq(header(&m, "Date", NULL), "Tue, 14 Nov 2023 22:13:20 +0000");
	ck_assert_str_eq(header(&m, "From", NULL), "Schemadrift <alerts@example.test>");
	ck_assert_str_eq(header(&m, "To", NULL), "oncall@example.test, dba@example.test");
	ck_assert_str_eq(header(&m, "Cc", NULL), "audit@example.test");
	ck_assert_str_eq(header(&m, "MIME-Version", NULL), "1.0");
	ck_assert_str_eq(header(&m, "Auto-Submitted", NULL), "auto-generated");
	ck_assert_msg(strncmp(header(&m, "Message-ID", NULL), "<0f1e2d3c4b5a69788796a5b4c3d2e1f0@",
			      34) == 0,
		      "Message-ID: %s", header(&m, "Message-ID", NULL));
	ck_assert_int_eq(header(&m, "Message-ID", NULL)[strlen(header(&m, "Message-ID", NULL)) - 1],
			 '>');

	headline = alert_headline(a);
	snprintf(expected, sizeof(expected), "[schemadrift] %s", headline);
	subject = decode_2047(header(&m, "Subject", NULL));
	ck_assert_str_eq(subject, expected);

	parts(&m, &plain, &html);
	ck_assert_ptr_nonnull(strstr(plain, headline));
	ck_assert_ptr_nonnull(strstr(plain, "  [breaking] removed column public.orders.total\n"));
	ck_assert_ptr_nonnull(strstr(plain,
				     "  [breaking] modified column public.orders.note: type\n"
				     "      before: text\n"
				     "      after:  character varying(20)\n"));
	/* a multi-line definition stays multi-line, indented under its label */
	ck_assert_ptr_nonnull(strstr(plain, "      before:  SELECT id\n"
					    "                 FROM orders;\n"));
	ck_assert_ptr_nonnull(strstr(plain, "  ... and 2 more changes\n"));
	ck_assert_ptr_nonnull(strstr(plain, "Target:      billing\n"));
	ck_assert_ptr_nonnull(strstr(plain, "Environment: production\n"));
	ck_assert_ptr_nonnull(strstr(plain, "Changes:     6 (1 added, 1 removed, 2 modified)\n"));

	ck_assert_ptr_nonnull(strstr(html, "<code>public.orders.total</code>"));
	ck_assert_ptr_nonnull(strstr(html, "character varying(20)"));
	ck_assert_ptr_nonnull(strstr(html, "... and 2 more changes"));
	ck_assert_ptr_nonnull(strstr(html, "<meta charset=\"utf-8\">"));

	free(subject);
	free(headline);
	free(plain);
	free(html);
	message_done(&m);
	free(msg);
	alert_free(a);
	close_channel(&f);
}
END_TEST

/* Attribution: under each change in both parts, and the alert's note. */
START_TEST(test_attribution)
{
	struct fixture f;
	struct error err = { 0 };
	struct alert *a = drift_alert("billing");
	struct message m;
	char *msg, *plain, *html;

	a->changes[0].attribution = strdup("by alice from 10.0.0.5 (deploy <x>) at "
					   "2026-12-03T12:00:00Z: ALTER TABLE public.orders");
	ck_assert_int_eq(alert_set_str(&a->attribution, "the DDL recorder is disabled"), 0);
	ck_assert_msg(open_channel(BASE_CONF, &f, &err) == 0, "%s", err.text);
	msg = render(&f, a);
	parse_message(msg, &m);
	parts(&m, &plain, &html);
	ck_assert_msg(strstr(plain, "\n      by alice from 10.0.0.5 (deploy <x>) at "
				    "2026-12-03T12:00:00Z: ALTER TABLE public.orders\n"), "%s", plain);
	ck_assert_ptr_nonnull(strstr(plain, "\nthe DDL recorder is disabled\n"));
	ck_assert_msg(strstr(html, "<em>by alice from 10.0.0.5 (deploy &lt;x&gt;) at "), "%s", html);
	ck_assert_ptr_nonnull(strstr(html, "<p>the DDL recorder is disabled</p>"));
	free(plain);
	free(html);
	message_done(&m);
	free(msg);
	alert_free(a);
	close_channel(&f);
}
END_TEST

START_TEST(test_render_is_stable)
{
	struct fixture f;
	struct error err = { 0 };
	struct alert *a = drift_alert("billing");
	char *one, *two;

	ck_assert_msg(open_channel(BASE_CONF, &f, &err) == 0, "%s", err.text);
	one = render(&f, a);
	two = render(&f, a);
	/* a retry sends the very same message, so duplicates are recognisable */
	ck_assert_str_eq(one, two);
	free(one);
	free(two);
	alert_free(a);
	close_channel(&f);
}
END_TEST

START_TEST(test_hostile_names)
{
	struct fixture f;
	struct error err = { 0 };
	struct alert *a = drift_alert("billing");
	struct message m;
	char *msg, *plain, *html, *subject, *headline, *header_block, expected[600];

	ck_assert_msg(open_channel(BASE_CONF, &f, &err) == 0, "%s", err.text);
	/* Raw control characters, as a hand-made or future alert could carry them. */
	set_str(&a->target, "evil\r\nBcc: victim@example.test\r\nX-Injected: 1");
	set_str(&a->environment, "prod\nSubject: spoofed");
	add_change(a, "added", "info", "table", "public.\"<script>alert(1)</script>\"", NULL, NULL,
		   NULL);
	add_change(a, "added", "info", "table", "public.\"a\r\nBcc: x@example.test\"", NULL, NULL,
		   NULL);
	add_change(a, "added", "info", "column", "public.t." NAME63, NULL, NULL, NULL);
	add_change(a, "added", "info", "table", "public.\"*bold* @channel 'q' \\\"dq\\\"\"", NULL,
		   NULL, NULL);
	add_change(a, "added", "info", "table", "public.\"\xe2\x80\xaemirrored\"", NULL, NULL,
		   NULL);
	add_change(a, "added", "info", "table",
		   "public.\"bad\xff"
		   "byte\"",
		   NULL, NULL, NULL);
	add_change(a, "modified", "warning", "view", "public.v", "definition", "SELECT 1",
		   "SELECT '<b>x</b>' AS \"&amp;\"");
	msg = render(&f, a);
	check_wire_form(msg);
	parse_message(msg, &m);
	check_header_set(&m, true);
	header_block = strndup(msg, (size_t)(strstr(msg, "\r\n\r\n") - msg) + 2);

	/* No header came from the data: the Subject is the headline's first line, whole. */
	subject = decode_2047(header(&m, "Subject", NULL));
	ck_assert_ptr_null(strchr(subject, '\r'));
	ck_assert_ptr_null(strchr(subject, '\n'));
	headline = alert_headline(a);
	snprintf(expected, sizeof(expected), "[schemadrift] %s", headline);
	ck_assert_str_eq(subject, expected);
	ck_assert_ptr_null(strstr(header_block, "\r\nBcc:"));
	ck_assert_ptr_null(strstr(header_block, "\r\nX-Injected:"));
	ck_assert_ptr_null(strstr(header_block, "\r\nSubject: spoofed"));

	parts(&m, &plain, &html);
	/* plain text: literal names, line breaks shown as escapes */
	ck_assert_ptr_nonnull(strstr(plain, "public.\"<script>alert(1)</script>\""));
	ck_assert_ptr_nonnull(strstr(plain, "public.\"a\\r\\nBcc: x@example.test\""));
	ck_assert_ptr_null(strstr(plain, "\nBcc: x@example.test"));
	ck_assert_ptr_nonnull(strstr(plain, "public.t." NAME63 "\n"));
	ck_assert_ptr_nonnull(strstr(plain, "*bold* @channel 'q' \\\"dq\\\""));
	ck_assert_ptr_nonnull(strstr(plain, "public.\"\\u202emirrored\""));
	ck_assert_ptr_nonnull(strstr(plain, "public.\"bad\xef\xbf\xbd"
					    "byte\""));
	ck_assert_ptr_nonnull(strstr(plain, "Target:      evil\\r\\nBcc: victim@example.test"));

	/* html: every markup character escaped */
	ck_assert_ptr_null(strstr(html, "<script>"));
	ck_assert_ptr_nonnull(strstr(
		html, "<code>public.&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;</code>"));
	ck_assert_ptr_nonnull(
		strstr(html, "SELECT &#39;&lt;b&gt;x&lt;/b&gt;&#39; AS &quot;&amp;amp;&quot;"));
	ck_assert_ptr_null(strstr(html, "<b>x</b>"));
	ck_assert_ptr_nonnull(strstr(html, "<code>public.t." NAME63 "</code>"));
	ck_assert_ptr_nonnull(strstr(html, "*bold* @channel &#39;q&#39;"));
	ck_assert_ptr_nonnull(strstr(html, "\\u202emirrored"));

	free(subject);
	free(headline);
	free(header_block);
	free(plain);
	free(html);
	message_done(&m);
	free(msg);
	alert_free(a);
	close_channel(&f);
}
END_TEST

START_TEST(test_subject_encoding)
{
	struct fixture f;
	struct error err = { 0 };
	struct alert *a;
	struct message m;
	char *msg, *subject, *headline, expected[600];
	const char *raw;

	ck_assert_msg(open_channel(BASE_CONF "subject_prefix = [DB \xc3\xa4nderung]\n", &f, &err) ==
			      0,
		      "%s", err.text);
	/* Non-ASCII and long: encoded-words, folded, each line within 78. */
	a = drift_alert("fakturering-\xc3\xa5\xc3\xa4\xc3\xb6-" NAME63 "-" NAME63);
	msg = render(&f, a);
	check_wire_form(msg);
	parse_message(msg, &m);
	raw = header(&m, "Subject", NULL);
	ck_assert_msg(strncmp(raw, "=?UTF-8?B?", 10) == 0, "Subject: %s", raw);
	headline = alert_headline(a);
	snprintf(expected, sizeof(expected), "[DB \xc3\xa4nderung] %s", headline);
	subject = decode_2047(raw);
	ck_assert_str_eq(subject, expected);
	free(subject);
	free(headline);
	message_done(&m);
	free(msg);
	alert_free(a);
	close_channel(&f);

	/* An ASCII subject with "=?" in it is encoded too, so it decodes to itself. */
	ck_assert_msg(open_channel(BASE_CONF "subject_prefix = =?x?=\n", &f, &err) == 0, "%s",
		      err.text);
	a = drift_alert("billing");
	msg = render(&f, a);
	parse_message(msg, &m);
	headline = alert_headline(a);
	snprintf(expected, sizeof(expected), "=?x?= %s", headline);
	subject = decode_2047(header(&m, "Subject", NULL));
	ck_assert_str_eq(subject, expected);
	free(subject);
	free(headline);
	message_done(&m);
	free(msg);
	alert_free(a);
	close_channel(&f);

	/* Long printable ASCII is folded at blanks, not encoded; unfolding gives it back. */
	ck_assert_msg(open_channel(BASE_CONF, &f, &err) == 0, "%s", err.text);
	a = drift_alert("billing-eu-west-1-primary-cluster-with-a-long-name");
	set_str(&a->environment, "production  (two blanks)");
	msg = render(&f, a);
	check_wire_form(msg);
	parse_message(msg, &m);
	raw = header(&m, "Subject", NULL);
	headline = alert_headline(a);
	snprintf(expected, sizeof(expected), "[schemadrift] %s", headline);
	ck_assert_msg(strstr(msg, "\r\nSubject: [schemadrift] Schema drift") != NULL,
		      "Subject was encoded: %s", raw);
	ck_assert_ptr_nonnull(strstr(strstr(msg, "\r\nSubject: "), "\r\n "));
	ck_assert_str_eq(raw, expected);
	free(headline);
	message_done(&m);
	free(msg);
	alert_free(a);
	close_channel(&f);

	/* Short printable ASCII is left as it is. */
	ck_assert_msg(open_channel(BASE_CONF "subject_prefix = [sd]\n", &f, &err) == 0, "%s",
		      err.text);
	a = alert_new(ALERT_TEST, "db1", &a) == 0 ? a : NULL;
	ck_assert_ptr_nonnull(a);
	msg = render(&f, a);
	parse_message(msg, &m);
	headline = alert_headline(a);
	snprintf(expected, sizeof(expected), "[sd] %s", headline);
	ck_assert_str_eq(header(&m, "Subject", NULL), expected);
	free(headline);
	message_done(&m);
	free(msg);
	alert_free(a);
	close_channel(&f);
}
END_TEST

START_TEST(test_addresses)
{
	struct fixture f;
	struct error err = { 0 };
	struct alert *a = drift_alert("billing");
	struct message m;
	char *msg, *from;
	char conf[4096];
	size_t n = 0;

	n += (size_t)snprintf(conf + n, sizeof(conf) - n,
			      "[notifier mail]\ntype = smtp\nhost = 127.0.0.1\n"
			      "from = J\xc3\xb6rg's Alerts <alerts@example.test>\nto = ");
	for (int i = 0; i < 12; i++)
		n += (size_t)snprintf(conf + n, sizeof(conf) - n, "%sperson%02d@example.test",
				      i ? ", " : "", i);
	n += (size_t)snprintf(conf + n, sizeof(conf) - n, "\ncc = Ops, Team <ops@example.test>\n");
	/* a comma splits the list, even inside a name: "Ops" alone is no address */
	ck_assert_int_lt(open_channel(conf, &f, &err), 0);
	ck_assert_msg(strstr(err.text, "cc") != NULL, "%s", err.text);
	close_channel(&f);

	n -= strlen("Ops, Team <ops@example.test>\n");
	snprintf(conf + n, sizeof(conf) - n, "Ops Team <ops@example.test>\n");
	ck_assert_msg(open_channel(conf, &f, &err) == 0, "%s", err.text);
	msg = render(&f, a);
	check_wire_form(msg);
	parse_message(msg, &m);
	from = decode_2047(header(&m, "From", NULL));
	ck_assert_str_eq(from, "J\xc3\xb6rg's Alerts <alerts@example.test>");
	for (int i = 0; i < 12; i++) {
		char one[64];

		snprintf(one, sizeof(one), "person%02d@example.test", i);
		ck_assert_ptr_nonnull(strstr(header(&m, "To", NULL), one));
	}
	ck_assert_str_eq(header(&m, "Cc", NULL), "Ops Team <ops@example.test>");
	free(from);
	message_done(&m);
	free(msg);
	alert_free(a);
	close_channel(&f);
}
END_TEST

/* ------------------------------------------------------------ configuration */

static void expect_conf_error(const char *extra_or_full, bool full, const char *needle)
{
	struct fixture f;
	struct error err = { 0 };
	char conf[2048];

	snprintf(conf, sizeof(conf), "%s%s", full ? "" : BASE_CONF, extra_or_full);
	ck_assert_msg(open_channel(conf, &f, &err) < 0, "accepted: %s", extra_or_full);
	ck_assert_msg(strstr(err.text, needle) != NULL, "error '%s' lacks '%s'", err.text, needle);
	ck_assert_msg(strstr(err.text, "test.conf:") != NULL, "error '%s' names no file:line",
		      err.text);
	close_channel(&f);
}

START_TEST(test_config_errors)
{
	expect_conf_error(
		"[notifier mail]\ntype = smtp\nfrom = a@example.test\nto = b@example.test\n", true,
		"host");
	expect_conf_error("[notifier mail]\ntype = smtp\nhost = h\nto = b@example.test\n", true,
			  "from");
	expect_conf_error("[notifier mail]\ntype = smtp\nhost = h\nfrom = a@example.test\n", true,
			  "to");
	expect_conf_error("colour = blue\n", false, "unknown key");
	expect_conf_error("tls = implicit\n", false, "465");
	expect_conf_error("starttls = optional\n", false, "'required' or 'none'");
	expect_conf_error("password = hunter2\n", false, "without 'username'");
	expect_conf_error("username = u\n", false, "'password'");
	expect_conf_error("port = 0\n", false, "port");
	expect_conf_error("host = ::1\n", false, "IPv6");
	expect_conf_error("to = a@example.test, not an address\n", false, "not an email address");
	expect_conf_error("to = a@example.test,, b@example.test\n", false, "empty address");
	expect_conf_error("from = <a@example.test\n", false, "from");
	expect_conf_error("cc = \"x\\\"y\" <a@example.test>\n", false, "cc");
	expect_conf_error("ca_file = /nonexistent/ca.pem\n", false, "/nonexistent/ca.pem");
	expect_conf_error("timeout = 0\n", false, "timeout");
}
END_TEST

START_TEST(test_password_not_in_errors)
{
	struct fixture f;
	struct error err = { 0 };

	ck_assert_int_lt(open_channel(BASE_CONF "username = u\npassword = file:/nonexistent/"
						"s3cret-file\n",
				      &f, &err),
			 0);
	ck_assert_ptr_nonnull(strstr(err.text, "password"));
	close_channel(&f);

	/* an inline secret is accepted from a private file (ini_parse text counts as one) */
	ck_assert_msg(
		open_channel(BASE_CONF "username = u\npassword = hunter2-inline\n", &f, &err) == 0,
		"%s", err.text);
	{
		struct alert *a = drift_alert("billing");
		char *msg = render(&f, a);

		ck_assert_ptr_null(strstr(msg, "hunter2"));
		free(msg);
		alert_free(a);
	}
	close_channel(&f);
}
END_TEST

START_TEST(test_optional_parts)
{
	struct fixture f;
	struct error err = { 0 };
	struct alert *a = NULL;
	struct message m;
	char *msg, *plain, *html;

	ck_assert_msg(open_channel("[notifier mail]\ntype = smtp\nhost = h.example.test\n"
				   "from = a@example.test\nto = b@example.test\n",
				   &f, &err) == 0,
		      "%s", err.text);
	ck_assert_int_eq(alert_new(ALERT_ERROR, "db1", &a), 0);
	set_str(&a->message, "could not connect: <refused>\nsecond line");
	set_str(&a->link, "javascript:alert(1)");
	msg = render(&f, a);
	check_wire_form(msg);
	parse_message(msg, &m);
	check_header_set(&m, false);
	parts(&m, &plain, &html);
	ck_assert_ptr_nonnull(strstr(plain, "could not connect: <refused>\nsecond line\n"));
	ck_assert_ptr_nonnull(strstr(html, "could not connect: &lt;refused&gt;\nsecond line"));
	/* only http(s) links become anchors */
	ck_assert_ptr_null(strstr(html, "href=\"javascript"));
	ck_assert_ptr_nonnull(strstr(html, "javascript:alert(1)"));
	free(plain);
	free(html);
	message_done(&m);
	free(msg);

	set_str(&a->link, "https://grafana.example.test/d/x?a=1&b=\"2\"");
	msg = render(&f, a);
	parse_message(msg, &m);
	parts(&m, &plain, &html);
	ck_assert_ptr_nonnull(strstr(
		html, "<a href=\"https://grafana.example.test/d/x?a=1&amp;b=&quot;2&quot;\">"));
	ck_assert_ptr_nonnull(
		strstr(plain, "Link:        https://grafana.example.test/d/x?a=1&b=\"2\"\n"));
	free(plain);
	free(html);
	message_done(&m);
	free(msg);
	alert_free(a);
	close_channel(&f);
}
END_TEST

/* ---------------------------------------------------------------- transport */

/*
 * A real SMTP server: tests/integration/smtp_server.py (Debian's
 * python3-aiosmtpd) in a child process, STARTTLS with a self-signed
 * certificate it makes, AUTH required.  It writes each accepted message as
 * it arrived (after dot-unstuffing) to DIR/messages/NNNN.eml.
 */
#define SMTP_USER     "alerts@example.test"
#define SMTP_PASSWORD "correct horse battery staple"

struct smtp_child {
	pid_t pid;
	int port;
	char dir[PATH_MAX];
};

static void server_script(char *buf, size_t size)
{
	/* CMake compiles with absolute paths: tests/unit/x.c -> tests/integration/. */
	const char *slash = strrchr(__FILE__, '/');

	ck_assert_msg(__FILE__[0] == '/' && slash, "need an absolute __FILE__: %s", __FILE__);
	snprintf(buf, size, "%.*s/../integration/smtp_server.py", (int)(slash - __FILE__),
		 __FILE__);
	ck_assert_msg(access(buf, R_OK) == 0, "%s: %s", buf, strerror(errno));
}

static void server_start(struct smtp_child *s, const char *mode, const char *cert_name)
{
	char script[PATH_MAX], line[64] = "";
	struct pollfd pfd;
	size_t n = 0;
	int fds[2];

	server_script(script, sizeof(script));
	snprintf(s->dir, sizeof(s->dir), "%s/schemadrift-smtp-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(s->dir));
	ck_assert_int_eq(pipe(fds), 0);
	s->pid = fork();
	ck_assert_int_ge(s->pid, 0);
	if (s->pid == 0) {
		/* a failed check ends the test process without server_stop(): go with it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/usr/bin/python3", "python3", script, "--dir", s->dir, "--mode", mode,
		      "--cert-name", cert_name, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	while (n + 1 < sizeof(line) && !strchr(line, '\n')) {
		ssize_t r;

		ck_assert_msg(poll(&pfd, 1, 20000) == 1, "the SMTP server did not start");
		r = read(fds[0], line + n, sizeof(line) - 1 - n);
		ck_assert_msg(r > 0, "the SMTP server exited");
		n += (size_t)r;
		line[n] = '\0';
	}
	close(fds[0]);
	s->port = atoi(line);
	ck_assert_int_gt(s->port, 0);
}

static void server_stop(struct smtp_child *s)
{
	char cmd[PATH_MAX + 16];

	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

struct send_result {
	struct event_base *base;
	bool called;
	unsigned calls;
	struct notify_result res;
};

static void send_done(struct notify_channel *ch, const struct notify_result *res, void *arg)
{
	struct send_result *r = arg;

	(void)ch;
	r->called = true;
	r->calls++;
	r->res = *res;
	event_base_loopbreak(r->base);
}

static void send_and_wait(struct fixture *f, const struct alert *a, struct send_result *r)
{
	struct timeval guard = { 30, 0 };

	ck_assert_int_eq(f->ch->backend->send(f->ch, a, send_done, r), 0);
	ck_assert(!r->called); /* never from inside send */
	event_base_loopexit(r->base, &guard);
	event_base_dispatch(r->base);
	ck_assert_msg(r->called, "no result within 30 s");
}

static int open_mail_channel(struct fixture *f, struct event_base *base, const struct smtp_child *s,
			     const char *extra, struct error *err)
{
	char conf[2048];
	int rc;

	snprintf(conf, sizeof(conf),
		 "[notifier mail]\ntype = smtp\nhost = localhost\nport = %d\n"
		 "from = alerts@example.test\nto = oncall@example.test\ncc = dba@example.test\n"
		 "username = " SMTP_USER "\npassword = " SMTP_PASSWORD "\n"
		 "ca_file = %s/server-cert.pem\ntimeout = 10\n%s",
		 s->port, s->dir, extra ? extra : "");
	rc = open_channel(conf, f, err);
	if (rc == 0)
		f->env.base = base; /* the channel keeps a pointer to f->env */
	return rc;
}

START_TEST(test_transport_is_byte_exact)
{
	struct smtp_child srv;
	struct fixture f;
	struct error err = { 0 };
	struct event_base *base = event_base_new();
	struct send_result r = { .base = base };
	struct alert *a = drift_alert("billing");
	char path[PATH_MAX + 32], *expected, *got, *env;
	size_t got_len, env_len;
	char dots[201];

	/* Lines starting with "." (SMTP's end of data) in both parts: a view whose
	 * definition has a line of just ".", and a 200-dot name that quoted-printable
	 * cuts into lines starting with dots. */
	memset(dots, '.', 200);
	dots[200] = '\0';
	add_change(a, "modified", "warning", "view", "public.v_dots", "definition", "SELECT 1\n.\n",
		   ".\n..\nSELECT 2");
	add_change(a, "added", "info", "table", dots, NULL, NULL, NULL);
	add_change(a, "added", "info", "table", "public.\"<script>\r\n.\r\nBcc: x@example.test\"",
		   NULL, NULL, NULL);

	server_start(&srv, "starttls", "localhost");
	ck_assert_msg(open_mail_channel(&f, base, &srv, NULL, &err) == 0, "%s", err.text);
	expected = render(&f, a);
	send_and_wait(&f, a, &r);
	ck_assert_msg(r.res.status == NOTIFY_DELIVERED, "status %d: %s", r.res.status,
		      r.res.detail);
	ck_assert_ptr_nonnull(strstr(r.res.detail, "250"));

	snprintf(path, sizeof(path), "%s/messages/0001.eml", srv.dir);
	got = read_file(path, &got_len);
	ck_assert_msg(got != NULL, "%s: no message", path);
	/* what arrived is exactly what was rendered: dot-stuffing undone, CRLF kept */
	ck_assert_uint_eq(got_len, strlen(expected));
	ck_assert_msg(memcmp(got, expected, got_len) == 0, "the message changed in transit");

	snprintf(path, sizeof(path), "%s/messages/0001.json", srv.dir);
	env = read_file(path, &env_len);
	ck_assert_ptr_nonnull(env);
	ck_assert_ptr_nonnull(strstr(env, "\"tls\": true"));
	ck_assert_ptr_nonnull(strstr(env, "\"authenticated\": true"));
	ck_assert_ptr_nonnull(
		strstr(env, "\"rcpt_tos\": [\"oncall@example.test\", \"dba@example.test\"]"));
	ck_assert_ptr_nonnull(strstr(env, "\"mail_from\": \"alerts@example.test\""));

	free(env);
	free(got);
	free(expected);
	alert_free(a);
	close_channel(&f);
	server_stop(&srv);
	event_base_free(base);
}
END_TEST

START_TEST(test_transport_failures)
{
	struct smtp_child srv;
	struct fixture f;
	struct error err = { 0 };
	struct event_base *base = event_base_new();
	struct alert *a = drift_alert("billing");
	char path[PATH_MAX + 32];

	server_start(&srv, "starttls", "localhost");

	/* wrong password: kept for a retry, and the answer says why */
	{
		struct send_result r = { .base = base };

		ck_assert_msg(open_mail_channel(&f, base, &srv, "password = wrong\n", &err) == 0,
			      "%s", err.text);
		send_and_wait(&f, a, &r);
		ck_assert_int_eq(r.res.status, NOTIFY_RETRY);
		ck_assert_msg(strstr(r.res.detail,
				     "authentication as 'alerts@example.test' failed: "
				     "535") != NULL,
			      "%s", r.res.detail);
		ck_assert_ptr_null(strstr(r.res.detail, "wrong"));
		close_channel(&f);
	}
	/* the self-signed certificate without ca_file: refused, permanently */
	{
		struct send_result r = { .base = base };
		char conf[1024];

		snprintf(conf, sizeof(conf),
			 "[notifier mail]\ntype = smtp\nhost = localhost\nport = %d\n"
			 "from = alerts@example.test\nto = oncall@example.test\n"
			 "username = " SMTP_USER "\npassword = " SMTP_PASSWORD "\ntimeout = 10\n",
			 srv.port);
		ck_assert_msg(open_channel(conf, &f, &err) == 0, "%s", err.text);
		f.env.base = base;
		send_and_wait(&f, a, &r);
		ck_assert_int_eq(r.res.status, NOTIFY_FAILED);
		ck_assert_msg(strstr(r.res.detail, "certificate") != NULL, "%s", r.res.detail);
		ck_assert_msg(strstr(r.res.detail, "self-signed") != NULL, "%s", r.res.detail);
		close_channel(&f);
	}
	/* nothing was delivered by either */
	snprintf(path, sizeof(path), "%s/messages/0001.eml", srv.dir);
	ck_assert_int_ne(access(path, F_OK), 0);

	/* an IP address in the certificate is checked as one */
	{
		struct send_result r = { .base = base };

		ck_assert_msg(open_mail_channel(&f, base, &srv, "host = 127.0.0.1\n", &err) == 0,
			      "%s", err.text);
		send_and_wait(&f, a, &r);
		ck_assert_msg(r.res.status == NOTIFY_DELIVERED, "%s", r.res.detail);
		close_channel(&f);
	}

	/* a channel freed with a send in flight reports nothing afterwards */
	{
		struct send_result r = { .base = base };
		struct timeval t = { 2, 0 };

		ck_assert_msg(open_mail_channel(&f, base, &srv, NULL, &err) == 0, "%s", err.text);
		ck_assert_int_eq(f.ch->backend->send(f.ch, a, send_done, &r), 0);
		close_channel(&f);
		event_base_loopexit(base, &t);
		event_base_dispatch(base);
		ck_assert(!r.called);
	}
	alert_free(a);
	server_stop(&srv);
	event_base_free(base);
}
END_TEST

START_TEST(test_transport_wrong_name)
{
	struct smtp_child srv;
	struct fixture f;
	struct error err = { 0 };
	struct event_base *base = event_base_new();
	struct send_result r = { .base = base };
	struct alert *a = drift_alert("billing");
	char path[PATH_MAX + 32];

	/* trusted (ca_file) but issued for another name: refused all the same */
	server_start(&srv, "starttls", "mail.example.test");
	ck_assert_msg(open_mail_channel(&f, base, &srv, NULL, &err) == 0, "%s", err.text);
	send_and_wait(&f, a, &r);
	ck_assert_int_eq(r.res.status, NOTIFY_FAILED);
	ck_assert_msg(strstr(r.res.detail, "certificate") != NULL, "%s", r.res.detail);
	ck_assert_msg(strstr(r.res.detail, "hostname mismatch") != NULL, "%s", r.res.detail);
	snprintf(path, sizeof(path), "%s/messages/0001.eml", srv.dir);
	ck_assert_int_ne(access(path, F_OK), 0);
	close_channel(&f);
	alert_free(a);
	server_stop(&srv);
	event_base_free(base);
}
END_TEST

START_TEST(test_transport_no_starttls)
{
	struct smtp_child srv;
	struct fixture f;
	struct error err = { 0 };
	struct event_base *base = event_base_new();
	struct alert *a = drift_alert("billing");
	char conf[1024];

	server_start(&srv, "plain", "localhost");
	snprintf(conf, sizeof(conf),
		 "[notifier mail]\ntype = smtp\nhost = localhost\nport = %d\n"
		 "from = alerts@example.test\nto = oncall@example.test\n"
		 "username = " SMTP_USER "\npassword = " SMTP_PASSWORD "\ntimeout = 10\n%s",
		 srv.port, "");
	{
		struct send_result r = { .base = base };

		ck_assert_msg(open_channel(conf, &f, &err) == 0, "%s", err.text);
		f.env.base = base;
		send_and_wait(&f, a, &r);
		ck_assert_int_eq(r.res.status, NOTIFY_FAILED);
		ck_assert_msg(strstr(r.res.detail, "does not offer STARTTLS") != NULL, "%s",
			      r.res.detail);
		ck_assert_ptr_nonnull(strstr(r.res.detail, "starttls = none"));
		close_channel(&f);
	}
	{
		struct send_result r = { .base = base };

		strcat(conf, "starttls = none\n");
		ck_assert_msg(open_channel(conf, &f, &err) == 0, "%s", err.text);
		f.env.base = base;
		send_and_wait(&f, a, &r);
		ck_assert_msg(r.res.status == NOTIFY_DELIVERED, "%s", r.res.detail);
		close_channel(&f);
	}
	alert_free(a);
	server_stop(&srv);
	event_base_free(base);
}
END_TEST

/* ------------------------------------------------------------------- worker */

struct wjob {
	pthread_t loop_thread;
	pthread_t ran_on;
	bool done_on_loop;
	int order;
	int *next_done;
	int done_seen;
	int *released;
	useconds_t sleep_us;
	struct worker **free_in_done;
	struct event_base *base;
	int *remaining;
	int started; /* set by the worker thread (atomic) */
};

static void wjob_run(void *arg)
{
	struct wjob *j = arg;

	j->ran_on = pthread_self();
	__atomic_store_n(&j->started, 1, __ATOMIC_SEQ_CST);
	if (j->sleep_us)
		usleep(j->sleep_us);
}

/* Waits (at most 20 s, not a timing assertion) until *v == want. */
static void wait_for(int *v, int want)
{
	for (int i = 0; i < 2000 && __atomic_load_n(v, __ATOMIC_SEQ_CST) != want; i++)
		usleep(10000);
	ck_assert_int_eq(__atomic_load_n(v, __ATOMIC_SEQ_CST), want);
}

static void wjob_done(void *arg)
{
	struct wjob *j = arg;

	j->done_on_loop = pthread_equal(pthread_self(), j->loop_thread);
	j->done_seen = (*j->next_done)++;
	if (j->free_in_done && *j->free_in_done) {
		worker_free(*j->free_in_done);
		*j->free_in_done = NULL;
	}
	if (--*j->remaining == 0)
		event_base_loopbreak(j->base);
}

static void wjob_release(void *arg)
{
	struct wjob *j = arg;

	__atomic_add_fetch(j->released, 1, __ATOMIC_SEQ_CST);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void run_loop(struct event_base *base, int seconds)
{
	struct timeval tv = { seconds, 0 };
	struct event *t = evtimer_new(base, on_timeout, base);

	evtimer_add(t, &tv);
	event_base_dispatch(base);
	event_free(t);
}

START_TEST(test_worker_order_and_thread)
{
	struct event_base *base = event_base_new();
	struct worker *w = NULL;
	struct wjob jobs[8];
	int next = 0, released = 0, remaining = 8;

	ck_assert_int_eq(worker_new(base, 1, &w, NULL), 0);
	for (int i = 0; i < 8; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].loop_thread = pthread_self();
		jobs[i].order = i;
		jobs[i].next_done = &next;
		jobs[i].released = &released;
		jobs[i].base = base;
		jobs[i].remaining = &remaining;
		jobs[i].done_seen = -1;
		jobs[i].sleep_us = 2000;
		ck_assert_int_eq(worker_submit(w, wjob_run, wjob_done, wjob_release, &jobs[i]), 0);
	}
	ck_assert_uint_eq(worker_pending(w), 8);
	/* nothing completes from inside submit */
	ck_assert_int_eq(next, 0);
	run_loop(base, 20);
	ck_assert_int_eq(remaining, 0);
	ck_assert_uint_eq(worker_pending(w), 0);
	for (int i = 0; i < 8; i++) {
		ck_assert_msg(!pthread_equal(jobs[i].ran_on, pthread_self()),
			      "ran on the loop thread");
		ck_assert(jobs[i].done_on_loop);
		ck_assert_int_eq(jobs[i].done_seen, i);
	}
	ck_assert_int_eq(released, 0);
	worker_free(w);
	event_base_free(base);
}
END_TEST

START_TEST(test_worker_free_while_running)
{
	struct event_base *base = event_base_new();
	struct worker *w = NULL;
	struct wjob slow, queued;
	int next = 0, released = 0, remaining = 2;

	ck_assert_int_eq(worker_new(base, 1, &w, NULL), 0);
	memset(&slow, 0, sizeof(slow));
	slow.loop_thread = pthread_self();
	slow.next_done = &next;
	slow.released = &released;
	slow.sleep_us = 300000;
	slow.base = base;
	slow.remaining = &remaining;
	queued = slow;
	queued.sleep_us = 0;
	ck_assert_int_eq(worker_submit(w, wjob_run, wjob_done, wjob_release, &slow), 0);
	ck_assert_int_eq(worker_submit(w, wjob_run, wjob_done, wjob_release, &queued), 0);
	wait_for(&slow.started, 1); /* one thread: the other job waits behind it */
	worker_free(w);		    /* must not wait for the running job */
	/* the queued one is released at once, the running one when it returns */
	ck_assert_int_eq(__atomic_load_n(&released, __ATOMIC_SEQ_CST), 1);
	ck_assert_int_eq(__atomic_load_n(&queued.started, __ATOMIC_SEQ_CST), 0);
	wait_for(&released, 2);
	run_loop(base, 1);
	ck_assert_int_eq(next, 0); /* no done after worker_free */
	event_base_free(base);
}
END_TEST

START_TEST(test_worker_free_inside_done)
{
	struct event_base *base = event_base_new();
	struct worker *w = NULL;
	struct wjob a, b;
	int next = 0, released = 0, remaining = 2;

	ck_assert_int_eq(worker_new(base, 2, &w, NULL), 0);
	memset(&a, 0, sizeof(a));
	a.loop_thread = pthread_self();
	a.next_done = &next;
	a.released = &released;
	a.base = base;
	a.remaining = &remaining;
	a.free_in_done = &w;
	b = a;
	ck_assert_int_eq(worker_submit(w, wjob_run, wjob_done, wjob_release, &a), 0);
	ck_assert_int_eq(worker_submit(w, wjob_run, wjob_done, wjob_release, &b), 0);
	usleep(100000); /* usually both have finished: one wakeup then reports both */
	run_loop(base, 1);
	/* the first done freed the worker: the other job is released (by worker_free, or
	 * by its thread if it was still running), never reported */
	ck_assert_ptr_null(w);
	wait_for(&released, 1);
	ck_assert_int_eq(next, 1);
	event_base_free(base);
}
END_TEST

/* After the loop ended (fleet_leave): a finished job is handed back by worker_drain, a
 * running one waited for as long as it says, and no longer. */
START_TEST(test_worker_drain_without_the_loop)
{
	struct event_base *base = event_base_new();
	struct worker *w = NULL;
	struct wjob quick, slow;
	int next = 0, released = 0, remaining = 2;

	ck_assert_int_eq(worker_new(base, 1, &w, NULL), 0);
	memset(&quick, 0, sizeof(quick));
	quick.loop_thread = pthread_self();
	quick.next_done = &next;
	quick.released = &released;
	quick.base = base;
	quick.remaining = &remaining;
	quick.done_seen = -1;
	slow = quick;
	slow.sleep_us = 1000000;
	ck_assert_int_eq(worker_submit(w, wjob_run, wjob_done, wjob_release, &quick), 0);
	ck_assert_int_eq(worker_drain(w, 20000), 0);
	ck_assert_int_eq(quick.done_seen, 0);
	ck_assert(quick.done_on_loop);
	ck_assert_uint_eq(worker_pending(w), 0);
	ck_assert_int_eq(worker_submit(w, wjob_run, wjob_done, wjob_release, &slow), 0);
	ck_assert_int_eq(worker_drain(w, 50), -ETIMEDOUT);
	ck_assert_int_eq(slow.done_seen, -1);
	ck_assert_uint_eq(worker_pending(w), 1);
	worker_free(w);
	wait_for(&released, 1);
	ck_assert_int_eq(next, 1);
	event_base_free(base);
}
END_TEST

static Suite *smtp_suite(void)
{
	Suite *s = suite_create("smtp");
	TCase *msg = tcase_create("message");
	TCase *conf = tcase_create("config");
	TCase *work = tcase_create("worker");
	TCase *wire = tcase_create("transport");

	tcase_add_test(msg, test_headers_and_parts);
	tcase_add_test(msg, test_render_is_stable);
	tcase_add_test(msg, test_attribution);
	tcase_add_test(msg, test_hostile_names);
	tcase_add_test(msg, test_subject_encoding);
	tcase_add_test(msg, test_addresses);
	tcase_add_test(msg, test_optional_parts);
	tcase_add_test(conf, test_config_errors);
	tcase_add_test(conf, test_password_not_in_errors);
	tcase_add_test(work, test_worker_order_and_thread);
	tcase_add_test(work, test_worker_free_while_running);
	tcase_add_test(work, test_worker_free_inside_done);
	tcase_add_test(work, test_worker_drain_without_the_loop);
	suite_add_tcase(s, msg);
	suite_add_tcase(s, conf);
	tcase_add_test(wire, test_transport_is_byte_exact);
	tcase_add_test(wire, test_transport_failures);
	tcase_add_test(wire, test_transport_wrong_name);
	tcase_add_test(wire, test_transport_no_starttls);
	tcase_set_timeout(wire, 120);
	suite_add_tcase(s, work);
	suite_add_tcase(s, wire);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(smtp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
