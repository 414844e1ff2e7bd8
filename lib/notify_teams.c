/* Microsoft Teams channel: a Workflows webhook carrying an Adaptive Card, kept under Teams' ~28 KB. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "isotime.h"
#include "notify_http.h"

/* Teams refuses messages over about 28 KB; the whole request body stays below this. */
#define TEAMS_MAX_BYTES 27000
#define TEAMS_VALUE_MAX 200
#define TEAMS_MESSAGE_MAX 2000
#define TEAMS_DEFAULT_MAX_CHANGES 20
#define TEAMS_SQL_MAX 600
#define TEAMS_MAX_ACKS 5

/*
 * Text from the database only ever goes into TextRun elements of a
 * RichTextBlock: Adaptive Cards do not apply Markdown to a TextRun, and a
 * mention needs an explicit msteams.entities entry, which we never send; so
 * every name shows literally.  TextBlock (which does apply Markdown) carries
 * only our own words.
 */
static json_t *run(const char *text, const char *style)
{
	json_t *r = json_pack("{s:s,s:s}", "type", "TextRun", "text", text);

	if (!r)
		return NULL;
	if (style && strcmp(style, "bold") == 0)
		json_object_set_new(r, "weight", json_string("Bolder"));
	else if (style && strcmp(style, "mono") == 0)
		json_object_set_new(r, "fontType", json_string("Monospace"));
	else if (style && strcmp(style, "subtle") == 0) {
		json_object_set_new(r, "isSubtle", json_true());
		json_object_set_new(r, "size", json_string("Small"));
	}
	return r;
}

/* A TextRun of s cut to max characters. */
static json_t *run_cut(const char *s, size_t max, const char *style)
{
	char *cut = notify_truncate(s, max);
	json_t *r = cut ? run(cut, style) : NULL;

	free(cut);
	return r;
}

static int add(json_t *arr, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_array_append_new(arr, v) == 0 ? 0 : -ENOMEM;
}

static const char *teams_color(const struct alert *a)
{
	if (a->kind == ALERT_RECOVERED)
		return "Good";
	if (a->kind == ALERT_ERROR || a->severity == DIFF_BREAKING)
		return "Attention";
	if (a->severity == DIFF_WARNING)
		return "Warning";
	return "Accent";
}

/* "breaking  removed table  public.legacy" as a RichTextBlock. */
static json_t *teams_change(const struct alert_change *c)
{
	json_t *in = json_array();
	char kind[64], verb[96];
	int r = in ? 0 : -ENOMEM;

	notify_kind_label(c->kind, kind, sizeof(kind));
	snprintf(verb, sizeof(verb), " %s %s ", c->change, kind);
	if (r == 0) {
		json_t *sev = run(c->severity, "bold");

		if (sev && strcmp(c->severity, "breaking") == 0)
			json_object_set_new(sev, "color", json_string("Attention"));
		else if (sev && strcmp(c->severity, "warning") == 0)
			json_object_set_new(sev, "color", json_string("Warning"));
		r = add(in, sev);
	}
	if (r == 0)
		r = add(in, run(verb, NULL));
	if (r == 0 && c->renamed_from) {
		r = add(in, run_cut(c->renamed_from, 400, "mono"));
		if (r == 0)
			r = add(in, run(" \xe2\x86\x92 ", NULL));
	}
	if (r == 0)
		r = add(in, run_cut(c->object, 400, "mono"));
	if (r == 0 && c->attribute) {
		r = add(in, run(": ", NULL));
		if (r == 0)
			r = add(in, run_cut(c->attribute, 100, "mono"));
		if (r == 0 && notify_change_is_long(c, TEAMS_VALUE_MAX)) {
			r = add(in, run(" changed", NULL));
		} else if (r == 0) {
			r = add(in, run(" ", NULL));
			if (r == 0)
				r = add(in, run_cut(c->before, TEAMS_VALUE_MAX, "mono"));
			if (r == 0)
				r = add(in, run(" \xe2\x86\x92 ", NULL));
			if (r == 0)
				r = add(in, run_cut(c->after, TEAMS_VALUE_MAX, "mono"));
		}
	}
	if (r == 0 && c->attribution) {
		r = add(in, run("\n", NULL));
		if (r == 0)
			r = add(in, run_cut(c->attribution, NOTIFY_WHO_MAX, "subtle"));
	}
	if (r == 0 && c->definition) {
		r = add(in, run("\n", NULL));
		if (r == 0)
			r = add(in, run_cut(c->definition, TEAMS_SQL_MAX, "mono"));
	}
	if (r == 0 && c->revert_sql) {
		r = add(in, run("\nrevert: ", NULL));
		if (r == 0)
			r = add(in, run_cut(c->revert_sql, TEAMS_SQL_MAX, "mono"));
	}
	if (r < 0) {
		json_decref(in);
		return NULL;
	}
	return json_pack("{s:s,s:o}", "type", "RichTextBlock", "inlines", in);
}

/* "What to do": the commands that resolve a drift alert, as a block of body. */
static int teams_resolve(const struct alert *a, json_t *body)
{
	json_t *in;
	char **lines;
	size_t n;
	int r;

	if (alert_resolve_lines(a, TEAMS_MAX_ACKS, &lines, &n) < 0)
		return -ENOMEM;
	if (n == 0)
		return 0;
	in = json_array();
	r = in ? add(in, run("What to do: accept the new state as the baseline, or acknowledge an "
			     "object's drift:", "bold"))
	       : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = add(in, run("\n", NULL));
		if (r == 0)
			r = add(in, run_cut(lines[i], 400, "mono"));
	}
	if (r == 0)
		r = add(in, run("\nor revert it with the SQL shown under each change. "
				ALERT_REVERT_NOTE, NULL));
	alert_resolve_lines_free(lines, n);
	if (r == 0)
		return add(body, json_pack("{s:s,s:o}", "type", "RichTextBlock", "inlines", in));
	json_decref(in);
	return r;
}

static json_t *teams_fact(const char *label, const char *value)
{
	json_t *in = json_array();

	if (!in || add(in, run(label, "bold")) < 0 || add(in, run_cut(value, 200, "mono")) < 0) {
		json_decref(in);
		return NULL;
	}
	return json_pack("{s:s,s:o,s:s}", "type", "RichTextBlock", "inlines", in, "spacing",
			 "None");
}

static size_t teams_size(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t n = s ? strlen(s) : (size_t)-1;

	free(s);
	return n;
}

static int teams_render(struct notify_channel *ch, const struct alert *a, char **ret_body,
			struct error *err)
{
	const struct notify_http *h = ch->state;
	size_t max = h ? (size_t)h->max_changes : TEAMS_DEFAULT_MAX_CHANGES;
	size_t n = a->n_changes < max ? a->n_changes : max, shown = 0, used, at;
	json_t *payload = NULL, *card = NULL, *body = json_array(), *in = NULL;
	char created[21];
	int r = body ? 0 : -ENOMEM;

	/* Title: one run (TextRun text is never Markdown). */
	if (r == 0) {
		char *title = notify_title(a);
		json_t *t = title ? run_cut(title, 300, "bold") : NULL;

		free(title);
		if (t) {
			json_object_set_new(t, "size", json_string("Large"));
			json_object_set_new(t, "color", json_string(teams_color(a)));
		}
		in = json_array();
		r = in ? add(in, t) : -ENOMEM;
		if (r == 0) {
			r = add(body, json_pack("{s:s,s:o}", "type", "RichTextBlock", "inlines", in));
			in = NULL;
		}
	}
	if (r == 0 && a->environment)
		r = add(body, teams_fact("Environment: ", a->environment));
	if (r == 0)
		r = add(body, teams_fact("Severity: ", diff_severity_name(a->severity)));
	if (r == 0 && a->kind == ALERT_DRIFT) {
		char counts[160];
		size_t k = (size_t)snprintf(counts, sizeof(counts), "%zu", a->total_changes);
		const char *sep = " (";

		for (int s = DIFF_BREAKING; s >= DIFF_INFO && k < sizeof(counts); s--) {
			if (!a->by_severity[s])
				continue;
			k += (size_t)snprintf(counts + k, sizeof(counts) - k, "%s%zu %s", sep,
					      a->by_severity[s],
					      diff_severity_name((enum diff_severity)s));
			sep = ", ";
		}
		if (a->total_changes && k < sizeof(counts))
			snprintf(counts + k, sizeof(counts) - k, ")");
		r = add(body, teams_fact("Changes: ", counts));
	}
	if (r == 0 && a->message && a->message[0]) {
		in = json_array();
		r = in ? add(in, run_cut(a->message, TEAMS_MESSAGE_MAX, "mono")) : -ENOMEM;
		if (r == 0)
			r = add(body, json_pack("{s:s,s:o}", "type", "RichTextBlock", "inlines", in));
		else
			json_decref(in);
		in = NULL;
	}
	if (r == 0 && a->attribution) {
		in = json_array();
		r = in ? add(in, run_cut(a->attribution, NOTIFY_WHO_MAX, NULL)) : -ENOMEM;
		if (r == 0)
			r = add(body, json_pack("{s:s,s:o}", "type", "RichTextBlock", "inlines", in));
		else
			json_decref(in);
		in = NULL;
	}
	at = json_array_size(body); /* changes go here */
	if (r == 0 && a->kind == ALERT_DRIFT)
		r = teams_resolve(a, body);
	if (r == 0) {
		in = json_array();
		isotime_format(a->created, created);
		r = in ? 0 : -ENOMEM;
		if (r == 0) {
			char foot[200];

			if (a->from_hash && a->to_hash)
				snprintf(foot, sizeof(foot),
					 "%s \xc2\xb7 snapshot %.12s \xe2\x86\x92 %.12s \xc2\xb7 alert %s",
					 created, a->from_hash, a->to_hash, a->id);
			else
				snprintf(foot, sizeof(foot), "%s \xc2\xb7 alert %s", created, a->id);
			r = add(in, run(foot, "subtle"));
		}
		if (r == 0)
			r = add(body, json_pack("{s:s,s:o}", "type", "RichTextBlock", "inlines", in));
		else
			json_decref(in);
		in = NULL;
	}
	if (r == 0) {
		card = json_pack("{s:s,s:s,s:s,s:{s:s},s:O}", "$schema",
				 "http://adaptivecards.io/schemas/adaptive-card.json", "type",
				 "AdaptiveCard", "version", "1.4", "msteams", "width", "Full", "body",
				 body);
		r = card ? 0 : -ENOMEM;
	}
	if (r == 0 && a->link)
		r = json_object_set_new(card, "actions",
					json_pack("[{s:s,s:s,s:s}]", "type", "Action.OpenUrl",
						  "title", "Open in schemadrift", "url", a->link)) == 0
			    ? 0
			    : -ENOMEM;
	if (r == 0) {
		payload = json_pack("{s:s,s:[{s:s,s:n,s:O}]}", "type", "message", "attachments",
				    "contentType", "application/vnd.microsoft.card.adaptive",
				    "contentUrl", "content", card);
		r = payload ? 0 : -ENOMEM;
	}
	/* Changes are added while the whole message stays under TEAMS_MAX_BYTES,
	 * keeping room for the "more" line. */
	used = r == 0 ? teams_size(payload) : 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *c = teams_change(&a->changes[i]);
		size_t cs = c ? teams_size(c) + 1 : (size_t)-1;

		if (!c) {
			r = -ENOMEM;
			break;
		}
		if (used + cs + 200 > TEAMS_MAX_BYTES) {
			json_decref(c);
			break;
		}
		r = json_array_insert_new(body, at + shown, c) == 0 ? 0 : -ENOMEM;
		used += cs;
		shown++;
	}
	if (r == 0 && a->kind == ALERT_DRIFT && a->total_changes > shown) {
		char more[64];

		snprintf(more, sizeof(more), "... and %zu more changes", a->total_changes - shown);
		r = json_array_insert_new(body, at + shown,
					  json_pack("{s:s,s:s,s:b}", "type", "TextBlock", "text",
						    more, "wrap", 1)) == 0
			    ? 0
			    : -ENOMEM;
	}
	if (r == 0) {
		*ret_body = json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER);
		r = *ret_body ? 0 : -ENOMEM;
	}
	json_decref(in);
	json_decref(payload);
	json_decref(card);
	json_decref(body);
	if (r < 0)
		return error_set(err, r, "channel '%s': cannot build the Teams card", ch->name);
	return 0;
}

static const struct notify_key teams_keys[] = { NOTIFY_HTTP_KEYS(TEAMS_DEFAULT_MAX_CHANGES) };

const struct notify_backend notify_teams_backend = {
	.name = "teams",
	.keys = teams_keys,
	.n_keys = sizeof(teams_keys) / sizeof(teams_keys[0]),
	.configure = notify_http_channel_configure,
	.render = teams_render,
	.send = notify_http_channel_send,
	.destroy = notify_http_channel_destroy,
};
