/* Discord channel: webhook message with one embed, within Discord's limits, markdown and mentions neutralised. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "isotime.h"
#include "notify_http.h"
#include "utf8.h"

/* Discord's limits (characters): content 2000, title 256, description 4096,
 * 25 fields, field name 256 and value 1024, footer 2048, and 6000 across all
 * of an embed's text.  We stay a little below the total. */
#define DISCORD_CONTENT_MAX 2000
#define DISCORD_TITLE_MAX 256
#define DISCORD_DESCRIPTION_MAX 4096
#define DISCORD_MAX_FIELDS 25
#define DISCORD_FIELD_NAME_MAX 256
#define DISCORD_FIELD_VALUE_MAX 1024
#define DISCORD_EMBED_TOTAL_MAX 5900
#define DISCORD_VALUE_MAX 200
#define DISCORD_MESSAGE_MAX 1500
#define DISCORD_DEFAULT_MAX_CHANGES 20
/* A field's definition and revert SQL; with the rest still under the value limit. */
#define DISCORD_SQL_MAX 250
#define DISCORD_MAX_ACKS 5

/*
 * Discord markdown removes a backslash before any ASCII punctuation and shows
 * the character literally, so every character that could start formatting
 * (* _ ~ ` | > # - . [ ] ( ) :), a mention (@ <) or a link (: < [) is
 * backslash-escaped.  allowed_mentions {"parse": []} is sent as well, so even
 * a mention that slipped through would not notify anyone.
 */
static const char *discord_piece(const char *p, size_t *ret_len, size_t *ret_advance)
{
	static const char special[] = "\\*_~`|<>[]()#-.:@!";
	static const char escaped[][3] = {
		"\\\\", "\\*", "\\_", "\\~", "\\`", "\\|", "\\<", "\\>", "\\[",
		"\\]",	"\\(", "\\)", "\\#", "\\-", "\\.", "\\:", "\\@", "\\!",
	};
	const char *hit = *p ? strchr(special, *p) : NULL;
	size_t cl;

	if (hit) {
		*ret_len = 2;
		*ret_advance = 1;
		return escaped[hit - special];
	}
	cl = utf8_char_len((const unsigned char *)p);
	*ret_len = *ret_advance = cl ? cl : 1;
	return p;
}

static void discord_escape_cut(struct strbuf *b, const char *s, size_t max)
{
	notify_escape_cut(b, s, max, discord_piece);
}

static char *discord_escaped(const char *s, size_t max)
{
	struct strbuf b = { 0 };

	discord_escape_cut(&b, s, max);
	return strbuf_take(&b);
}

static int discord_color(const struct alert *a)
{
	if (a->kind == ALERT_RECOVERED)
		return 0x2eb67d;
	if (a->kind == ALERT_TEST)
		return 0x4a90e2;
	if (a->kind == ALERT_ERROR || a->severity == DIFF_BREAKING)
		return 0xe01e5a;
	if (a->severity == DIFF_WARNING)
		return 0xecb22e;
	return 0x4a90e2;
}

/* A field: name "breaking · removed table", value the escaped object and values. */
static json_t *discord_field(const struct alert_change *c, bool with_sql, size_t *ret_units)
{
	struct strbuf v = { 0 };
	char kind[64], raw[160], *name, *value;
	json_t *f;

	notify_kind_label(c->kind, kind, sizeof(kind));
	snprintf(raw, sizeof(raw), "%s \xc2\xb7 %s %s", c->severity, c->change, kind);
	if (c->renamed_from) {
		discord_escape_cut(&v, c->renamed_from, 400);
		strbuf_puts(&v, " \xe2\x86\x92 ");
	}
	discord_escape_cut(&v, c->object, 400);
	if (c->attribute) {
		strbuf_puts(&v, "\n");
		discord_escape_cut(&v, c->attribute, 100);
		if (notify_change_is_long(c, DISCORD_VALUE_MAX)) {
			strbuf_puts(&v, " changed");
		} else {
			strbuf_puts(&v, ": ");
			discord_escape_cut(&v, c->before, DISCORD_VALUE_MAX);
			strbuf_puts(&v, " \xe2\x86\x92 ");
			discord_escape_cut(&v, c->after, DISCORD_VALUE_MAX);
		}
	}
	if (c->attribution) {
		strbuf_puts(&v, "\n");
		discord_escape_cut(&v, c->attribution, NOTIFY_WHO_MAX);
	}
	if (with_sql && c->definition) {
		strbuf_puts(&v, "\n");
		discord_escape_cut(&v, c->definition, DISCORD_SQL_MAX);
	}
	if (with_sql && c->revert_sql) {
		strbuf_puts(&v, "\nrevert: ");
		discord_escape_cut(&v, c->revert_sql, DISCORD_SQL_MAX);
	}
	value = strbuf_take(&v);
	if (!value)
		return NULL;
	name = discord_escaped(raw, DISCORD_FIELD_NAME_MAX);
	if (!name) {
		free(value);
		return NULL;
	}
	/* The pieces are bounded well below the limit; this is a backstop. */
	if (notify_text_units(value) > DISCORD_FIELD_VALUE_MAX) {
		char *cut = discord_escaped(c->object, DISCORD_FIELD_VALUE_MAX);

		free(value);
		value = cut;
		if (!value) {
			free(name);
			return NULL;
		}
	}
	*ret_units = notify_text_units(name) + notify_text_units(value);
	f = json_pack("{s:s,s:s,s:b}", "name", name, "value", value, "inline", 0);
	free(name);
	free(value);
	return f;
}

static int discord_render(struct notify_channel *ch, const struct alert *a, char **ret_body,
			  struct error *err)
{
	const struct notify_http *h = ch->state;
	size_t max = h ? (size_t)h->max_changes : DISCORD_DEFAULT_MAX_CHANGES;
	size_t n = a->n_changes < max ? a->n_changes : max, shown = 0, total;
	struct strbuf b = { 0 };
	char *title = NULL, *desc = NULL, *content = NULL, *headline = alert_headline(a);
	char footer[200], created[21];
	json_t *j = NULL, *embed = NULL, *fields = json_array();
	int r = fields && headline ? 0 : -ENOMEM;

	/* Title: our words and the target, escaped like everything else. */
	{
		char *raw = notify_title(a);

		title = raw ? discord_escaped(raw, DISCORD_TITLE_MAX) : NULL;
		free(raw);
	}
	content = headline ? discord_escaped(headline, 300) : NULL;
	isotime_format(a->created, created);
	if (a->from_hash && a->to_hash)
		snprintf(footer, sizeof(footer), "schemadrift \xc2\xb7 snapshot %.12s \xe2\x86\x92 %.12s \xc2\xb7 alert %s",
			 a->from_hash, a->to_hash, a->id);
	else
		snprintf(footer, sizeof(footer), "schemadrift \xc2\xb7 alert %s", a->id);

	/* Description: severity and counts, then the message. */
	strbuf_printf(&b, "**Severity:** %s", diff_severity_name(a->severity));
	if (a->kind == ALERT_DRIFT) {
		const char *sep = " (";

		strbuf_printf(&b, "\n**Changes:** %zu", a->total_changes);
		for (int s = DIFF_BREAKING; s >= DIFF_INFO; s--) {
			if (!a->by_severity[s])
				continue;
			strbuf_printf(&b, "%s%zu %s", sep, a->by_severity[s],
				      diff_severity_name((enum diff_severity)s));
			sep = ", ";
		}
		if (a->total_changes)
			strbuf_puts(&b, ")");
	}
	if (a->message && a->message[0]) {
		strbuf_puts(&b, "\n");
		discord_escape_cut(&b, a->message, DISCORD_MESSAGE_MAX);
	}
	if (a->attribution) {
		strbuf_puts(&b, "\n");
		discord_escape_cut(&b, a->attribution, NOTIFY_WHO_MAX);
	}
	if (a->kind == ALERT_DRIFT) {
		char **lines;
		size_t nl;

		if (alert_resolve_lines(a, DISCORD_MAX_ACKS, &lines, &nl) < 0)
			b.failed = true;
		else if (nl) {
			strbuf_puts(&b, "\n**What to do:** accept the new state as the baseline, "
					    "or acknowledge an object's drift:");
			for (size_t i = 0; i < nl; i++) {
				strbuf_puts(&b, "\n");
				discord_escape_cut(&b, lines[i], 300);
			}
			strbuf_puts(&b, "\nor revert it with the SQL shown under each change. ");
			discord_escape_cut(&b, ALERT_REVERT_NOTE, 200);
			alert_resolve_lines_free(lines, nl);
		}
	}
	desc = strbuf_take(&b);
	if (!title || !content || !desc)
		r = -ENOMEM;

	/* Fields while the embed stays within the total, with room for the "more" line. */
	total = r == 0 ? notify_text_units(title) + notify_text_units(desc) +
				 notify_text_units(footer) + 40
		       : 0;
	for (size_t i = 0; r == 0 && i < n && shown < DISCORD_MAX_FIELDS; i++) {
		size_t units = 0;
		json_t *f = discord_field(&a->changes[i], false, &units);

		if (!f) {
			r = -ENOMEM;
			break;
		}
		if (total + units > DISCORD_EMBED_TOTAL_MAX) {
			json_decref(f);
			break;
		}
		r = json_array_append_new(fields, f) == 0 ? 0 : -ENOMEM;
		total += units;
		shown++;
	}
	/* Then definitions and revert SQL, in order, while they fit: listing
	 * more changes comes first. */
	for (size_t i = 0; r == 0 && i < shown; i++) {
		size_t plain = 0, units = 0;
		json_t *f = discord_field(&a->changes[i], true, &units);

		json_decref(discord_field(&a->changes[i], false, &plain));
		if (!f) {
			r = -ENOMEM;
			break;
		}
		if (units > plain && total - plain + units <= DISCORD_EMBED_TOTAL_MAX) {
			total = total - plain + units;
			r = json_array_set_new(fields, i, f) == 0 ? 0 : -ENOMEM;
		} else {
			json_decref(f);
		}
	}
	if (r == 0 && a->kind == ALERT_DRIFT && a->total_changes > shown) {
		char *more = NULL;

		if (asprintf(&more, "%s\n... and %zu more changes", desc,
			     a->total_changes - shown) < 0)
			r = -ENOMEM;
		else {
			free(desc);
			desc = more;
		}
	}
	if (r == 0) {
		embed = json_pack("{s:s,s:s,s:i,s:o,s:{s:s},s:s}", "title", title, "description",
				  desc, "color", discord_color(a), "fields", fields, "footer", "text",
				  footer, "timestamp", created);
		fields = NULL;
		r = embed ? 0 : -ENOMEM;
	}
	if (r == 0 && a->link)
		r = json_object_set_new(embed, "url", json_string(a->link)) == 0 ? 0 : -ENOMEM;
	if (r == 0) {
		j = json_pack("{s:s,s:[O],s:{s:[]}}", "content", content, "embeds", embed,
			      "allowed_mentions", "parse");
		r = j ? 0 : -ENOMEM;
	}
	if (r == 0) {
		*ret_body = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		r = *ret_body ? 0 : -ENOMEM;
	}
	json_decref(j);
	json_decref(embed);
	json_decref(fields);
	free(title);
	free(desc);
	free(content);
	free(headline);
	strbuf_done(&b);
	if (r < 0)
		return error_set(err, r, "channel '%s': cannot build the Discord message", ch->name);
	return 0;
}

static const struct notify_key discord_keys[] = { NOTIFY_HTTP_KEYS(DISCORD_DEFAULT_MAX_CHANGES) };

const struct notify_backend notify_discord_backend = {
	.name = "discord",
	.keys = discord_keys,
	.n_keys = sizeof(discord_keys) / sizeof(discord_keys[0]),
	.configure = notify_http_channel_configure,
	.render = discord_render,
	.send = notify_http_channel_send,
	.destroy = notify_http_channel_destroy,
};
