/* Slack channel: incoming webhook, Block Kit layout with a plain-text fallback, within Slack's limits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "isotime.h"
#include "notify_http.h"
#include "utf8.h"

/* Slack's limits: 50 blocks a message, 3,000 characters a section text, 150 a
 * header; we stay a little below each. */
#define SLACK_MAX_BLOCKS 50
#define SLACK_SECTION_MAX 2900
#define SLACK_HEADER_MAX 150
#define SLACK_FALLBACK_MAX 2900
#define SLACK_VALUE_MAX 200
#define SLACK_MESSAGE_MAX 2800
#define SLACK_DEFAULT_MAX_CHANGES 20
/* A definition or revert SQL under its change line. */
#define SLACK_SQL_MAX 600
/* `schemadrift ack` lines in "What to do". */
#define SLACK_MAX_ACKS 5

/* U+2060 WORD JOINER after '@': "@channel" still reads "@channel" but is no mention. */
#define SLACK_AT "@\xe2\x81\xa0"
/* U+02CB MODIFIER LETTER GRAVE ACCENT stands in for '`', which cannot be escaped in a code span. */
#define SLACK_BACKTICK "\xcb\x8b"

/*
 * Slack mrkdwn has no escape character: &, < and > become entities (so
 * <!channel>, <!here>, <@U123> and <url|text> cannot form), '@' is followed by
 * a word joiner (no @channel/@here/@everyone, even with link_names), and text
 * from the database is shown inside `code` spans, where *bold*, _italic_ and
 * ~strike~ are not formatted; a backtick there is replaced by U+02CB.
 */
/* The escaped form of the character at p (notify_escape_fn). */
static const char *slack_piece(const char *p, size_t *ret_len, size_t *ret_advance)
{
	static const struct {
		char c;
		const char *esc;
	} map[] = {
		{ '&', "&amp;" }, { '<', "&lt;" }, { '>', "&gt;" },
		{ '@', SLACK_AT }, { '`', SLACK_BACKTICK },
	};
	size_t cl = utf8_char_len((const unsigned char *)p);

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (*p == map[i].c) {
			*ret_len = strlen(map[i].esc);
			*ret_advance = 1;
			return map[i].esc;
		}
	}
	*ret_len = *ret_advance = cl ? cl : 1;
	return p;
}

static void slack_escape_cut(struct strbuf *b, const char *s, size_t max)
{
	notify_escape_cut(b, s, max, slack_piece);
}

static void slack_escape(struct strbuf *b, const char *s)
{
	slack_escape_cut(b, s, SIZE_MAX);
}

/* `text`, at most max characters with the escapes. */
static void slack_code(struct strbuf *b, const char *s, size_t max)
{
	strbuf_puts(b, "`");
	slack_escape_cut(b, s, max);
	strbuf_puts(b, "`");
}

static char *slack_escaped(const char *s, size_t max)
{
	struct strbuf b = { 0 };

	slack_escape_cut(&b, s, max);
	return strbuf_take(&b);
}

static int jadd(json_t *arr, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_array_append_new(arr, v) == 0 ? 0 : -ENOMEM;
}

static json_t *slack_mrkdwn_section(const char *text)
{
	return json_pack("{s:s,s:{s:s,s:s}}", "type", "section", "text", "type", "mrkdwn", "text",
			 text);
}

/* SQL under a change line, a code span per line (nothing in it is formatted). */
static void slack_sql(struct strbuf *b, const char *sql)
{
	char *cut = sql ? notify_truncate(sql, SLACK_SQL_MAX) : NULL;

	if (sql && !cut)
		b->failed = true;
	for (char *line = cut, *next; line && *line; line = next) {
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		strbuf_puts(b, "\n    ");
		slack_code(b, line, SIZE_MAX);
	}
	free(cut);
}

/* One change line: "• *breaking* removed table `public.legacy`". */
static void slack_change_line(struct strbuf *b, const struct alert_change *c)
{
	char kind[64];

	notify_kind_label(c->kind, kind, sizeof(kind));
	strbuf_printf(b, "\xe2\x80\xa2 *%s* %s %s ", c->severity, c->change, kind);
	if (c->renamed_from) {
		slack_code(b, c->renamed_from, 400);
		strbuf_puts(b, " \xe2\x86\x92 ");
	}
	slack_code(b, c->object, 400);
	if (c->attribute) {
		strbuf_puts(b, ": ");
		slack_code(b, c->attribute, 100);
		if (notify_change_is_long(c, SLACK_VALUE_MAX)) {
			strbuf_puts(b, " changed");
		} else {
			strbuf_puts(b, " ");
			slack_code(b, c->before, SLACK_VALUE_MAX);
			strbuf_puts(b, " \xe2\x86\x92 ");
			slack_code(b, c->after, SLACK_VALUE_MAX);
		}
	}
	if (c->attribution) {
		strbuf_puts(b, "\n    _");
		slack_escape_cut(b, c->attribution, NOTIFY_WHO_MAX);
		strbuf_puts(b, "_");
	}
	slack_sql(b, c->definition);
	if (c->revert_sql) {
		strbuf_puts(b, "\n    revert:");
		slack_sql(b, c->revert_sql);
	}
}

/* "What to do": the commands that resolve a drift alert, as code. */
static char *slack_resolve(const struct alert *a)
{
	struct strbuf b = { 0 };
	char **lines;
	size_t n;

	if (alert_resolve_lines(a, SLACK_MAX_ACKS, &lines, &n) < 0)
		return NULL;
	if (n == 0)
		return strdup("");
	strbuf_puts(&b, "*What to do*: accept the new state as the baseline, or acknowledge "
			    "an object's drift:");
	for (size_t i = 0; i < n; i++) {
		strbuf_puts(&b, "\n");
		slack_code(&b, lines[i], 400);
	}
	strbuf_puts(&b, "\nor revert it with the SQL shown under each change. ");
	slack_escape(&b, ALERT_REVERT_NOTE);
	alert_resolve_lines_free(lines, n);
	return strbuf_take(&b);
}

static int slack_blocks(const struct alert *a, size_t max_changes, json_t *blocks)
{
	struct strbuf b = { 0 };
	char *text = NULL, *title = NULL;
	size_t shown = 0, n;
	int r = 0;

	/* Header: plain_text, so nothing in it is formatted. */
	text = notify_title(a);
	title = text ? slack_escaped(text, SLACK_HEADER_MAX - 10) : NULL;
	free(text);
	if (!title)
		return -ENOMEM;
	r = jadd(blocks, json_pack("{s:s,s:{s:s,s:s,s:b}}", "type", "header", "text", "type",
				   "plain_text", "text", title, "emoji", 0));
	free(title);

	/* Facts. */
	if (r == 0) {
		json_t *fields = json_array();

		strbuf_puts(&b, "*Target*\n");
		slack_code(&b, a->target ? a->target : "(none)", 200);
		text = strbuf_take(&b);
		r = text ? jadd(fields, json_pack("{s:s,s:s}", "type", "mrkdwn", "text", text))
			 : -ENOMEM;
		free(text);
		if (r == 0 && a->environment) {
			strbuf_puts(&b, "*Environment*\n");
			slack_code(&b, a->environment, 200);
			text = strbuf_take(&b);
			r = text ? jadd(fields, json_pack("{s:s,s:s}", "type", "mrkdwn", "text",
							  text))
				 : -ENOMEM;
			free(text);
		}
		if (r == 0) {
			strbuf_printf(&b, "*Severity*\n%s", diff_severity_name(a->severity));
			text = strbuf_take(&b);
			r = text ? jadd(fields, json_pack("{s:s,s:s}", "type", "mrkdwn", "text",
							  text))
				 : -ENOMEM;
			free(text);
		}
		if (r == 0 && a->kind == ALERT_DRIFT) {
			const char *sep = " (";

			strbuf_printf(&b, "*Changes*\n%zu", a->total_changes);
			for (int s = DIFF_BREAKING; s >= DIFF_INFO; s--) {
				if (!a->by_severity[s])
					continue;
				strbuf_printf(&b, "%s%zu %s", sep, a->by_severity[s],
					      diff_severity_name((enum diff_severity)s));
				sep = ", ";
			}
			if (a->total_changes)
				strbuf_puts(&b, ")");
			text = strbuf_take(&b);
			r = text ? jadd(fields, json_pack("{s:s,s:s}", "type", "mrkdwn", "text",
							  text))
				 : -ENOMEM;
			free(text);
		}
		if (r == 0)
			r = jadd(blocks, json_pack("{s:s,s:o}", "type", "section", "fields", fields));
		else
			json_decref(fields);
	}

	/* The message (error text, check details, test note): a code block. */
	if (r == 0 && a->message && a->message[0]) {
		char *cut = notify_truncate(a->message, SLACK_MESSAGE_MAX);

		strbuf_puts(&b, "```");
		if (cut)
			slack_escape(&b, cut);
		else
			b.failed = true;
		strbuf_puts(&b, "```");
		free(cut);
		text = strbuf_take(&b);
		r = text ? jadd(blocks, slack_mrkdwn_section(text)) : -ENOMEM;
		free(text);
	}

	if (r == 0 && a->attribution) {
		slack_escape_cut(&b, a->attribution, NOTIFY_WHO_MAX);
		text = strbuf_take(&b);
		r = text ? jadd(blocks, slack_mrkdwn_section(text)) : -ENOMEM;
		free(text);
	}

	/* Changes, packed into sections of at most SLACK_SECTION_MAX characters,
	 * leaving room for the "more" line, the link and the context. */
	n = a->n_changes < max_changes ? a->n_changes : max_changes;
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct strbuf line = { 0 };
		char *l;

		slack_change_line(&line, &a->changes[i]);
		l = strbuf_take(&line);
		if (!l) {
			r = -ENOMEM;
			break;
		}
		if (b.len && notify_text_units(b.s) + 1 + notify_text_units(l) > SLACK_SECTION_MAX) {
			if (json_array_size(blocks) + 1 + 4 > SLACK_MAX_BLOCKS) {
				free(l);
				break;
			}
			text = strbuf_take(&b);
			r = text ? jadd(blocks, slack_mrkdwn_section(text)) : -ENOMEM;
			free(text);
		}
		if (r == 0) {
			if (b.len)
				strbuf_puts(&b, "\n");
			strbuf_puts(&b, l);
			shown++;
		}
		free(l);
	}
	if (r == 0 && b.len) {
		text = strbuf_take(&b);
		r = text ? jadd(blocks, slack_mrkdwn_section(text)) : -ENOMEM;
		free(text);
	}
	if (r == 0 && a->kind == ALERT_DRIFT && a->total_changes > shown) {
		char more[64];

		snprintf(more, sizeof(more), "... and %zu more changes", a->total_changes - shown);
		r = jadd(blocks, slack_mrkdwn_section(more));
	}

	if (r == 0 && a->kind == ALERT_DRIFT) {
		text = slack_resolve(a);
		r = !text ? -ENOMEM : text[0] ? jadd(blocks, slack_mrkdwn_section(text)) : 0;
		free(text);
	}

	if (r == 0 && a->link) {
		/* <url|text>: the URL is ours (percent-encoded values) but the
		 * template is not; entities keep it one link, %7C keeps '|' out. */
		strbuf_puts(&b, "<");
		for (const char *p = a->link; *p; p++) {
			if (*p == '|')
				strbuf_puts(&b, "%7C");
			else if (*p == '&')
				strbuf_puts(&b, "&amp;");
			else if (*p == '<')
				strbuf_puts(&b, "%3C");
			else if (*p == '>')
				strbuf_puts(&b, "%3E");
			else
				strbuf_put(&b, p, 1);
		}
		strbuf_puts(&b, "|Open in schemadrift>");
		text = strbuf_take(&b);
		r = text ? jadd(blocks, slack_mrkdwn_section(text)) : -ENOMEM;
		free(text);
	}

	if (r == 0) {
		char created[21];

		isotime_format(a->created, created);
		strbuf_printf(&b, "%s", created);
		if (a->from_hash && a->to_hash)
			strbuf_printf(&b, " \xc2\xb7 snapshot `%.12s` \xe2\x86\x92 `%.12s`",
				      a->from_hash, a->to_hash);
		strbuf_printf(&b, " \xc2\xb7 alert `%s`", a->id);
		text = strbuf_take(&b);
		r = text ? jadd(blocks, json_pack("{s:s,s:[{s:s,s:s}]}", "type", "context",
						  "elements", "type", "mrkdwn", "text", text))
			 : -ENOMEM;
		free(text);
	}
	strbuf_done(&b);
	return r;
}

static int slack_render(struct notify_channel *ch, const struct alert *a, char **ret_body,
			struct error *err)
{
	const struct notify_http *h = ch->state;
	size_t max = h ? (size_t)h->max_changes : SLACK_DEFAULT_MAX_CHANGES;
	json_t *j = NULL, *blocks = json_array();
	char *headline = alert_headline(a), *fallback = NULL;
	int r = blocks && headline ? 0 : -ENOMEM;

	if (r == 0)
		r = slack_blocks(a, max, blocks);
	if (r == 0) {
		fallback = slack_escaped(headline, SLACK_FALLBACK_MAX);
		/* mrkdwn false: the fallback (notifications, old clients) is not
		 * formatted either. */
		j = fallback ? json_pack("{s:s,s:b,s:O}", "text", fallback, "mrkdwn", 0, "blocks",
					 blocks)
			     : NULL;
		r = j ? 0 : -ENOMEM;
	}
	if (r == 0) {
		*ret_body = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		r = *ret_body ? 0 : -ENOMEM;
	}
	json_decref(j);
	json_decref(blocks);
	free(headline);
	free(fallback);
	if (r < 0)
		return error_set(err, r, "channel '%s': cannot build the Slack message", ch->name);
	return 0;
}

static const struct notify_key slack_keys[] = { NOTIFY_HTTP_KEYS(SLACK_DEFAULT_MAX_CHANGES) };

const struct notify_backend notify_slack_backend = {
	.name = "slack",
	.keys = slack_keys,
	.n_keys = sizeof(slack_keys) / sizeof(slack_keys[0]),
	.configure = notify_http_channel_configure,
	.render = slack_render,
	.send = notify_http_channel_send,
	.destroy = notify_http_channel_destroy,
};
