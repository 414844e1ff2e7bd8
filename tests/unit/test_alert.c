/* Unit tests for lib/alert.c and the channel renderers: hostile names render literally, no live mentions, limits hold. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alert.h"
#include "recorder.h"
#include "ini.h"
#include "diff.h"
#include "http.h"
#include "model.h"
#include "notify.h"
#include "notify_http.h"
#include "snapshot.h"

/* Names a database may hold, each at most 63 bytes (NAMEDATALEN - 1). */
static const char *const hostile[] = {
	"quote\"s 'single'",
	"<script>alert(1)</script>",
	"*bold* _it_ ~strike~ `code`",
	"@channel @here @everyone",
	"<!channel> <!here> <@U123> <#C1>",
	"[link](http://evil.example)",
	"cr\r\nlf",
	"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5"
	"\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac"
	"\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
};
#define N_HOSTILE (sizeof(hostile) / sizeof(hostile[0]))

static const char *const chat_channels[] = { "slack", "teams", "discord" };
static const char *const all_channels[] = { "webhook", "pagerduty", "slack", "teams", "discord" };

/* ------------------------------------------------------------ helpers */

/* Characters (code points) in UTF-8 text: what the services count at least. */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Replaces every `from` in s (malloc'd) by `to`; returns the new string. */
static char *replace_all(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	char *out, *o, *p;

	for (p = s; (p = strstr(p, from)); p += fl)
		n++;
	out = malloc(strlen(s) + n * (tl > fl ? tl - fl : 0) + 1);
	ck_assert_ptr_nonnull(out);
	for (o = out, p = s;;) {
		char *hit = strstr(p, from);

		if (!hit) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(hit - p));
		o += hit - p;
		memcpy(o, to, tl);
		o += tl;
		p = hit + fl;
	}
	free(s);
	return out;
}

/* What Slack shows for escaped mrkdwn text. */
static char *slack_shown(const char *s)
{
	char *t = strdup(s);

	t = replace_all(t, "\xe2\x81\xa0", "");
	t = replace_all(t, "\xcb\x8b", "`");
	t = replace_all(t, "&lt;", "<");
	t = replace_all(t, "&gt;", ">");
	t = replace_all(t, "&amp;", "&");
	return t;
}

/* What Discord shows: a backslash before ASCII punctuation disappears. */
static char *discord_shown(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	ck_assert_ptr_nonnull(out);
	for (; *s; s++) {
		if (*s == '\\' && s[1] && strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", s[1]))
			s++;
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* Every string in a JSON value, depth first, into an array. */
static void collect(json_t *j, const char ***out, size_t *n)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_string(j)) {
		*out = realloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = json_string_value(j);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			collect(v, out, n);
	} else if (json_is_object(j)) {
		json_object_foreach(j, key, v)
			collect(v, out, n);
	}
}

static json_t *render(const char *kind, const struct alert *a, char **ret_body)
{
	struct error err;
	char *body = NULL;
	json_t *j;

	ck_assert_msg(notify_render_type(kind, a, &body, &err) == 0, "%s: %s", kind, err.text);
	j = json_loads(body, 0, NULL);
	ck_assert_msg(j != NULL, "%s: not JSON: %s", kind, body);
	if (ret_body)
		*ret_body = body;
	else
		free(body);
	return j;
}

static void add_change(struct alert *a, const char *change, const char *severity,
		       const char *kind, const char *object, const char *attr, const char *before,
		       const char *after)
{
	struct alert_change *c;

	a->changes = realloc(a->changes, (a->n_changes + 1) * sizeof(*a->changes));
	ck_assert_ptr_nonnull(a->changes);
	c = &a->changes[a->n_changes++];
	memset(c, 0, sizeof(*c));
	c->change = strdup(change);
	c->severity = strdup(severity);
	c->kind = strdup(kind);
	c->object = strdup(object);
	c->attribute = attr ? strdup(attr) : NULL;
	c->before = before ? strdup(before) : NULL;
	c->after = after ? strdup(after) : NULL;
}

/* Two models: `orders` changes type, `legacy` goes, one table per hostile name comes. */
static void hostile_models(struct model **ret_a, struct model **ret_b)
{
	struct model *a = NULL, *b = NULL;

	ck_assert_int_eq(model_new(&a), 0);
	ck_assert_int_eq(model_new(&b), 0);
	for (int side = 0; side < 2; side++) {
		struct model *m = side ? b : a;

		ck_assert_int_eq(model_begin(m, MODEL_SCHEMA, NULL, NULL, "public", NULL), 0);
		ck_assert_int_eq(model_end(m), 0);
		ck_assert_int_eq(model_begin(m, MODEL_TABLE, "public", NULL, "orders", NULL), 0);
		ck_assert_int_eq(model_end(m), 0);
		ck_assert_int_eq(model_begin(m, MODEL_COLUMN, "public", "orders", "total", NULL), 0);
		ck_assert_int_eq(model_set_int(m, "position", 1), 0);
		ck_assert_int_eq(model_set_str(m, "type", side ? "numeric(12,2)" : "numeric(10,2)"),
				 0);
		ck_assert_int_eq(model_end(m), 0);
		if (!side) {
			ck_assert_int_eq(model_begin(m, MODEL_TABLE, "public", NULL, "legacy", NULL), 0);
			ck_assert_int_eq(model_end(m), 0);
		} else {
			for (size_t i = 0; i < N_HOSTILE; i++) {
				ck_assert_int_eq(
					model_begin(m, MODEL_TABLE, "public", NULL, hostile[i], NULL), 0);
				ck_assert_int_eq(model_end(m), 0);
			}
		}
		ck_assert_int_eq(model_finish(m), 0);
		ck_assert_int_eq(snapshot_hash(m), 0);
	}
	*ret_a = a;
	*ret_b = b;
}

/* The drift alert of hostile_models(), and the human names of the hostile tables. */
static struct alert *hostile_alert(char ***ret_names)
{
	struct model *a, *b;
	struct diff *d = NULL;
	struct alert *al = NULL;
	char **names = calloc(N_HOSTILE, sizeof(*names));

	hostile_models(&a, &b);
	ck_assert_int_eq(diff_models(a, b, &d), 0);
	ck_assert_int_eq(alert_new(ALERT_DRIFT, "billing", &al), 0);
	ck_assert_int_eq(alert_set_str(&al->environment, "production"), 0);
	ck_assert_int_eq(alert_set_diff(al, d), 0);
	for (size_t i = 0; i < N_HOSTILE; i++) {
		struct model_object key = { .kind = MODEL_TABLE, .schema = "public",
					    .name = hostile[i] };
		const struct model_object *o = model_find(b, &key);
		char buf[512];

		ck_assert_ptr_nonnull(o);
		model_object_name(o, buf, sizeof(buf));
		names[i] = strdup(buf);
	}
	diff_free(d);
	model_free(a);
	model_free(b);
	*ret_names = names;
	return al;
}

static void free_names(char **names)
{
	for (size_t i = 0; i < N_HOSTILE; i++)
		free(names[i]);
	free(names);
}

/* ------------------------------------------------------------ the alert model */

START_TEST(test_new_and_kinds)
{
	struct alert *a = NULL, *b = NULL;
	enum alert_kind k;

	ck_assert_int_eq(alert_new(ALERT_ERROR, "db1", &a), 0);
	ck_assert_int_eq(alert_new(ALERT_ERROR, "db1", &b), 0);
	ck_assert_uint_eq(strlen(a->id), 32);
	ck_assert_uint_eq(strspn(a->id, "0123456789abcdef"), 32);
	ck_assert_str_ne(a->id, b->id);
	ck_assert_int_eq(a->severity, DIFF_BREAKING);
	ck_assert_str_eq(a->target, "db1");
	ck_assert(a->created > 0);
	alert_free(a);
	alert_free(b);
	for (int i = ALERT_DRIFT; i <= ALERT_TEST; i++) {
		ck_assert_int_eq(alert_kind_from_name(alert_kind_name((enum alert_kind)i), &k), 0);
		ck_assert_int_eq(k, i);
	}
	ck_assert_int_eq(alert_kind_from_name("page", &k), -ENOENT);
	ck_assert_int_eq(alert_new((enum alert_kind)42, "x", &a), -EINVAL);
	alert_free(NULL);
}
END_TEST

START_TEST(test_set_str_cleans)
{
	char *s = NULL;

	ck_assert_int_eq(alert_set_str(&s, "ok\nline\ttab \x01 \xff end \xc3\xa9"), 0);
	ck_assert_str_eq(s, "ok\nline\ttab \\x01 \\xff end \xc3\xa9");
	ck_assert_int_eq(alert_set_str(&s, NULL), 0);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_set_diff_orders_and_counts)
{
	char **names;
	struct alert *a = hostile_alert(&names);

	ck_assert_uint_eq(a->total_changes, N_HOSTILE + 2);
	ck_assert_uint_eq(a->n_changes, N_HOSTILE + 2);
	ck_assert_uint_eq(a->by_type[DIFF_ADDED], N_HOSTILE);
	ck_assert_uint_eq(a->by_type[DIFF_REMOVED], 1);
	ck_assert_uint_eq(a->by_type[DIFF_MODIFIED], 1);
	ck_assert_uint_eq(a->by_severity[DIFF_BREAKING], 1);
	ck_assert_int_eq(a->severity, DIFF_BREAKING);
	/* Most severe first. */
	ck_assert_str_eq(a->changes[0].change, "removed");
	ck_assert_str_eq(a->changes[0].object, "public.legacy");
	ck_assert_str_eq(a->changes[1].severity, "warning");
	ck_assert_str_eq(a->changes[1].object, "public.orders.total");
	ck_assert_str_eq(a->changes[1].attribute, "type");
	ck_assert_str_eq(a->changes[1].before, "numeric(10,2)");
	ck_assert_str_eq(a->changes[1].after, "numeric(12,2)");
	ck_assert_ptr_null(a->changes[0].attribute);
	ck_assert_uint_eq(strlen(a->from_hash), 64);
	ck_assert_uint_eq(strlen(a->to_hash), 64);
	ck_assert_str_ne(a->from_hash, a->to_hash);
	/* Names as the diff shows them: quoted, one line. */
	for (size_t i = 0; i < N_HOSTILE; i++) {
		ck_assert_ptr_null(strchr(names[i], '\n'));
		ck_assert_ptr_null(strchr(names[i], '\r'));
	}
	ck_assert_str_eq(names[1], "public.\"<script>alert(1)</script>\"");
	ck_assert_str_eq(names[6], "public.\"cr\\x0d\\x0alf\"");
	free_names(names);
	alert_free(a);
}
END_TEST

START_TEST(test_acknowledged_changes_raise_nothing)
{
	struct model *a, *b;
	struct diff *d = NULL;
	struct alert *al = NULL;

	hostile_models(&a, &b);
	ck_assert_int_eq(diff_models(a, b, &d), 0);
	for (size_t i = 0; i < d->n_changes; i++)
		if (d->changes[i].type == DIFF_REMOVED)
			diff_acknowledge(d, i, "planned");
	ck_assert_int_eq(alert_new(ALERT_DRIFT, "billing", &al), 0);
	ck_assert_int_eq(alert_set_diff(al, d), 0);
	ck_assert_uint_eq(al->total_changes, N_HOSTILE + 1);
	ck_assert_uint_eq(al->by_type[DIFF_REMOVED], 0);
	ck_assert_uint_eq(al->by_severity[DIFF_BREAKING], 0);
	ck_assert_int_eq(al->severity, DIFF_WARNING);
	for (size_t i = 0; i < al->n_changes; i++)
		ck_assert_str_ne(al->changes[i].object, "public.legacy");
	alert_free(al);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

START_TEST(test_set_diff_json)
{
	const char *text =
		"{\"schemadrift_diff\":{\"version\":1,\"from\":{\"source\":\"a\",\"hash\":\"ab12\"},"
		"\"to\":{\"source\":\"b\",\"hash\":\"cd34\"}},"
		"\"summary\":{\"changes\":5},"
		"\"changes\":["
		"{\"change\":\"modified\",\"severity\":\"info\",\"kind\":\"view\",\"object\":"
		"{\"hex\":\"6e616d65ff\"},\"attribute\":\"columns\",\"before\":[\"a\",\"b\"],"
		"\"after\":[]},"
		"{\"change\":\"modified\",\"severity\":\"warning\",\"kind\":\"column\",\"object\":"
		"\"public.t.c\",\"attribute\":\"not_null\",\"before\":true,\"after\":null},"
		"{\"change\":\"renamed\",\"severity\":\"breaking\",\"kind\":\"table\",\"object\":"
		"\"public.new\",\"renamed_from\":\"old\",\"renamed_from_object\":\"public.old\"},"
		"{\"change\":\"modified\",\"severity\":\"info\",\"kind\":\"sequence\",\"object\":"
		"\"public.s\",\"attribute\":\"start\",\"before\":1,\"after\":{\"hex\":\"0a41\"}},"
		"{\"change\":\"removed\",\"severity\":\"breaking\",\"kind\":\"table\",\"object\":"
		"\"public.acked\",\"acknowledged\":true}"
		"]}";
	json_t *j = json_loads(text, 0, NULL);
	struct alert *a = NULL;
	struct error err;

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(alert_new(ALERT_DRIFT, "t", &a), 0);
	ck_assert_msg(alert_set_diff_json(a, j, &err) == 0, "%s", err.text);
	ck_assert_uint_eq(a->total_changes, 4);
	ck_assert_uint_eq(a->n_changes, 4);
	ck_assert_uint_eq(a->by_type[DIFF_RENAMED], 1);
	ck_assert_uint_eq(a->by_type[DIFF_REMOVED], 0);
	ck_assert_uint_eq(a->by_severity[DIFF_BREAKING], 1);
	ck_assert_int_eq(a->severity, DIFF_BREAKING);
	ck_assert_str_eq(a->changes[0].change, "renamed");
	ck_assert_str_eq(a->changes[0].renamed_from, "public.old");
	ck_assert_str_eq(a->changes[0].object, "public.new");
	ck_assert_str_eq(a->changes[1].before, "true");
	ck_assert_str_eq(a->changes[1].after, "(none)");
	ck_assert_str_eq(a->changes[2].object, "name\\xff");
	ck_assert_str_eq(a->changes[2].before, "a, b");
	ck_assert_str_eq(a->changes[2].after, "(empty)");
	ck_assert_str_eq(a->changes[3].before, "1");
	ck_assert_str_eq(a->changes[3].after, "\nA");
	ck_assert_str_eq(a->from_hash, "ab12");
	ck_assert_str_eq(a->to_hash, "cd34");
	alert_free(a);
	json_decref(j);

	j = json_loads("{\"changes\":[]}", 0, NULL);
	ck_assert_int_eq(alert_new(ALERT_DRIFT, "t", &a), 0);
	ck_assert_int_eq(alert_set_diff_json(a, j, &err), -EBADMSG);
	ck_assert_msg(strstr(err.text, "not a schemadrift diff") != NULL, "%s", err.text);
	json_decref(j);
	j = json_loads("{\"schemadrift_diff\":{\"version\":1},\"changes\":[{\"change\":\"moved\","
		       "\"severity\":\"info\",\"kind\":\"table\",\"object\":\"x\"}]}",
		       0, NULL);
	ck_assert_int_eq(alert_set_diff_json(a, j, &err), -EBADMSG);
	ck_assert_str_eq(err.text, "diff JSON: changes[0]: change or severity is invalid");
	json_decref(j);
	alert_free(a);
}
END_TEST

START_TEST(test_top_changes_are_capped)
{
	json_t *j = json_pack("{s:{s:i},s:[]}", "schemadrift_diff", "version", 1, "changes");
	json_t *changes = json_object_get(j, "changes");
	struct alert *a = NULL;
	struct error err;

	for (int i = 0; i < 150; i++) {
		char obj[32];

		snprintf(obj, sizeof(obj), "public.t%03d", i);
		json_array_append_new(changes, json_pack("{s:s,s:s,s:s,s:s}", "change", "added",
							 "severity", i >= 100 ? "breaking" : "info",
							 "kind", "table", "object", obj));
	}
	ck_assert_int_eq(alert_new(ALERT_DRIFT, "t", &a), 0);
	ck_assert_msg(alert_set_diff_json(a, j, &err) == 0, "%s", err.text);
	ck_assert_uint_eq(a->total_changes, 150);
	ck_assert_uint_eq(a->n_changes, ALERT_MAX_CHANGES);
	/* The 50 breaking ones first, in diff order, then the first 50 others. */
	ck_assert_str_eq(a->changes[0].object, "public.t100");
	ck_assert_str_eq(a->changes[49].object, "public.t149");
	ck_assert_str_eq(a->changes[50].object, "public.t000");
	ck_assert_str_eq(a->changes[99].object, "public.t049");
	alert_free(a);
	json_decref(j);
}
END_TEST

START_TEST(test_json_round_trip)
{
	char **names;
	struct alert *a = hostile_alert(&names), *b = NULL;
	struct error err;
	json_t *j, *j2;
	char *s1, *s2;

	ck_assert_int_eq(alert_set_str(&a->message, "line one\nline two"), 0);
	ck_assert_int_eq(alert_set_str(&a->dedup_key, "schemadrift:billing:drift:1"), 0);
	ck_assert_int_eq(alert_set_link(a, "https://ui.example/t/{target}?h={to_hash}", &err), 0);
	j = alert_to_json(a);
	ck_assert_ptr_nonnull(j);
	ck_assert_msg(alert_from_json(j, &b, &err) == 0, "%s", err.text);
	j2 = alert_to_json(b);
	s1 = json_dumps(j, JSON_SORT_KEYS);
	s2 = json_dumps(j2, JSON_SORT_KEYS);
	ck_assert_str_eq(s1, s2);
	ck_assert_str_eq(b->id, a->id);
	ck_assert_int_eq(b->kind, ALERT_DRIFT);
	ck_assert_str_eq(b->changes[3].object, a->changes[3].object);
	ck_assert_int_eq(b->created, a->created);
	free(s1);
	free(s2);
	json_decref(j2);
	alert_free(b);
	b = NULL;

	/* Damaged spool files are refused with a reason, never half-read. */
	json_object_set_new(j, "id", json_string("../../etc/passwd"));
	ck_assert_int_eq(alert_from_json(j, &b, &err) == -EBADMSG, 1);
	ck_assert_msg(strstr(err.text, "'id'") != NULL, "%s", err.text);
	json_object_set_new(j, "id", json_string("abc"));
	json_object_set_new(j, "kind", json_string("page"));
	ck_assert_int_eq(alert_from_json(j, &b, &err), -EBADMSG);
	json_object_set_new(j, "kind", json_string("drift"));
	json_object_set_new(j, "version", json_integer(99));
	ck_assert_int_eq(alert_from_json(j, &b, &err), -EBADMSG);
	ck_assert_msg(strstr(err.text, "version") != NULL, "%s", err.text);
	json_object_set_new(j, "version", json_integer(ALERT_JSON_VERSION));
	/* Spool files from before renames had 3 type counts. */
	json_object_set_new(j, "by_type", json_pack("[iii]", 1, 2, 3));
	ck_assert_int_eq(alert_from_json(j, &b, &err), 0);
	ck_assert_uint_eq(b->by_type[DIFF_RENAMED], 0);
	ck_assert_uint_eq(b->by_type[DIFF_MODIFIED], 3);
	alert_free(b);
	json_decref(j);
	free_names(names);
	alert_free(a);
}
END_TEST

START_TEST(test_link_template)
{
	struct alert *a = NULL;
	struct error err;

	ck_assert_int_eq(alert_new(ALERT_DRIFT, "bill ing/&", &a), 0);
	ck_assert_int_eq(alert_set_str(&a->to_hash, "abcdef"), 0);
	ck_assert_int_eq(alert_set_link(a, "https://ui.example/{target}/{{x}}?h={to_hash}&e={environment}&k={kind}", &err), 0);
	ck_assert_str_eq(a->link, "https://ui.example/bill%20ing%2F%26/{x}}?h=abcdef&e=&k=drift");
	ck_assert_int_eq(alert_set_link(a, "https://ui.example/{nope}", &err), -EINVAL);
	ck_assert_msg(strstr(err.text, "'{nope}'") != NULL, "%s", err.text);
	ck_assert_int_eq(alert_set_link(a, "javascript:alert(1)", &err), -EINVAL);
	ck_assert_int_eq(alert_set_link(a, "https://x/a b\n", &err), 0);
	ck_assert_str_eq(a->link, "https://x/a%20b%0A");
	alert_free(a);
}
END_TEST

START_TEST(test_headlines)
{
	struct alert *a = NULL;
	char *h;

	ck_assert_int_eq(alert_new(ALERT_DRIFT, "billing", &a), 0);
	ck_assert_int_eq(alert_set_str(&a->environment, "production"), 0);
	a->total_changes = 3;
	a->by_severity[DIFF_BREAKING] = 1;
	a->by_severity[DIFF_INFO] = 2;
	h = alert_headline(a);
	ck_assert_str_eq(h, "Schema drift on billing (production): 3 changes (1 breaking, 2 info)");
	free(h);
	a->kind = ALERT_ERROR;
	ck_assert_int_eq(alert_set_str(&a->message, "connection refused\nsecond line"), 0);
	h = alert_headline(a);
	ck_assert_str_eq(h, "Cannot monitor billing (production): connection refused");
	free(h);
	a->kind = ALERT_RECOVERED;
	ck_assert_int_eq(alert_set_str(&a->message, "drift\rresolved"), 0);
	h = alert_headline(a);
	/* Stored messages keep no carriage return: it is written as \x0d. */
	ck_assert_str_eq(h, "Recovered: billing (production): drift\\x0dresolved");
	free(h);
	alert_free(a);
	ck_assert_int_eq(alert_new(ALERT_TEST, NULL, &a), 0);
	h = alert_headline(a);
	ck_assert_str_eq(h, "Test alert from schemadrift");
	free(h);
	alert_free(a);
}
END_TEST

/* ------------------------------------------------------------ rendering hostile names */

START_TEST(test_webhook_renders_names_literally)
{
	char **names;
	struct alert *a = hostile_alert(&names);
	json_t *j = render("webhook", a, NULL), *c;
	size_t i, found = 0;

	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(j, "schemadrift_alert"), "version")),
			 1);
	ck_assert_str_eq(json_string_value(json_object_get(j, "id")), a->id);
	ck_assert_str_eq(json_string_value(json_object_get(j, "environment")), "production");
	json_array_foreach(json_object_get(j, "changes"), i, c)
		for (size_t k = 0; k < N_HOSTILE; k++)
			if (strcmp(json_string_value(json_object_get(c, "object")), names[k]) == 0)
				found++;
	ck_assert_uint_eq(found, N_HOSTILE);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "changes_omitted")), 0);
	json_decref(j);
	free_names(names);
	alert_free(a);
}
END_TEST

START_TEST(test_slack_renders_names_literally)
{
	char **names, *body;
	struct alert *a = hostile_alert(&names);
	json_t *j = render("slack", a, &body);
	const char **strs = NULL;
	size_t n = 0, found = 0;

	collect(j, &strs, &n);
	for (size_t i = 0; i < n; i++) {
		const char *s = strs[i];

		/* No '<' at all: no <!channel>, <!here>, <@U...> or <url|text> from a name. */
		ck_assert_msg(strchr(s, '<') == NULL || strstr(s, "|Open in schemadrift>"), "%s", s);
		/* Every '@' is followed by a word joiner: no @channel, @here, @everyone. */
		for (const char *p = strchr(s, '@'); p; p = strchr(p + 1, '@'))
			ck_assert_msg(strncmp(p + 1, "\xe2\x81\xa0", 3) == 0, "live @ in %s", s);
		ck_assert_ptr_null(strchr(s, '\r'));
		/* Names are inside `code` spans, where *bold* and _it_ are not formatted. */
		for (const char *p = strchr(s, '`'); p; p = strchr(p + 1, '`')) {
			const char *end = strchr(p + 1, '`');
			char *span, *shown;

			ck_assert_ptr_nonnull(end);
			span = strndup(p + 1, (size_t)(end - p - 1));
			ck_assert_ptr_null(strchr(span, '\n'));
			shown = slack_shown(span);
			for (size_t k = 0; k < N_HOSTILE; k++)
				if (strcmp(shown, names[k]) == 0)
					found++;
			free(shown);
			free(span);
			p = end;
		}
	}
	ck_assert_uint_eq(found, N_HOSTILE);
	ck_assert(json_is_false(json_object_get(j, "mrkdwn")));
	free(strs);
	free(body);
	json_decref(j);
	free_names(names);
	alert_free(a);
}
END_TEST

START_TEST(test_discord_renders_names_literally)
{
	char **names;
	struct alert *a = hostile_alert(&names);
	json_t *j = render("discord", a, NULL);
	json_t *embed = json_array_get(json_object_get(j, "embeds"), 0), *f;
	json_t *parse = json_object_get(json_object_get(j, "allowed_mentions"), "parse");
	size_t i, found = 0;

	/* Nobody is notified, whatever the text says. */
	ck_assert(json_is_array(parse));
	ck_assert_uint_eq(json_array_size(parse), 0);
	json_array_foreach(json_object_get(embed, "fields"), i, f) {
		const char *v = json_string_value(json_object_get(f, "value"));
		char *shown = discord_shown(v);

		/* Every markdown or mention character is escaped. */
		for (const char *p = v; *p; p++) {
			if (*p == '\\') {
				p++;
				continue;
			}
			ck_assert_msg(!strchr("@<*_~`|[#>", *p), "unescaped %c in %s", *p, v);
		}
		/* The name is the first line; the object's definition may follow. */
		shown[strcspn(shown, "\n")] = '\0';
		for (size_t k = 0; k < N_HOSTILE; k++)
			if (strcmp(shown, names[k]) == 0)
				found++;
		free(shown);
	}
	ck_assert_uint_eq(found, N_HOSTILE);
	json_decref(j);
	free_names(names);
	alert_free(a);
}
END_TEST

START_TEST(test_teams_renders_names_literally)
{
	char **names;
	struct alert *a = hostile_alert(&names);
	json_t *j = render("teams", a, NULL);
	json_t *card = json_object_get(json_array_get(json_object_get(j, "attachments"), 0),
				       "content");
	json_t *b, *in;
	size_t i, k, found = 0;

	ck_assert_str_eq(json_string_value(json_object_get(card, "type")), "AdaptiveCard");
	json_array_foreach(json_object_get(card, "body"), i, b) {
		const char *type = json_string_value(json_object_get(b, "type"));

		if (strcmp(type, "TextBlock") == 0) {
			/* TextBlock applies Markdown: only our own words go there. */
			for (size_t h = 0; h < N_HOSTILE; h++)
				ck_assert_ptr_null(
					strstr(json_string_value(json_object_get(b, "text")), hostile[h]));
			continue;
		}
		ck_assert_str_eq(type, "RichTextBlock");
		json_array_foreach(json_object_get(b, "inlines"), k, in) {
			ck_assert_str_eq(json_string_value(json_object_get(in, "type")), "TextRun");
			for (size_t h = 0; h < N_HOSTILE; h++)
				if (strcmp(json_string_value(json_object_get(in, "text")), names[h]) == 0)
					found++;
		}
	}
	ck_assert_uint_eq(found, N_HOSTILE);
	ck_assert_ptr_null(json_object_get(card, "msteams") ? json_object_get(
				   json_object_get(card, "msteams"), "entities")
							    : NULL);
	json_decref(j);
	free_names(names);
	alert_free(a);
}
END_TEST

START_TEST(test_pagerduty_event_fields)
{
	char **names;
	struct alert *a = hostile_alert(&names);
	json_t *j, *payload, *top;
	size_t found = 0, i;
	json_t *t;

	ck_assert_int_eq(alert_set_str(&a->dedup_key, "schemadrift:billing:drift:3"), 0);
	j = render("pagerduty", a, NULL);
	payload = json_object_get(j, "payload");
	ck_assert_str_eq(json_string_value(json_object_get(j, "routing_key")), "<routing_key>");
	ck_assert_str_eq(json_string_value(json_object_get(j, "event_action")), "trigger");
	ck_assert_str_eq(json_string_value(json_object_get(j, "dedup_key")),
			 "schemadrift:billing:drift:3");
	ck_assert_str_eq(json_string_value(json_object_get(payload, "severity")), "critical");
	ck_assert_str_eq(json_string_value(json_object_get(payload, "source")), "billing");
	ck_assert_str_eq(json_string_value(json_object_get(payload, "group")), "production");
	top = json_object_get(json_object_get(payload, "custom_details"), "top_changes");
	json_array_foreach(top, i, t)
		for (size_t k = 0; k < N_HOSTILE; k++)
			if (strstr(json_string_value(t), names[k]))
				found++;
	ck_assert_uint_eq(found, N_HOSTILE);
	json_decref(j);

	/* Recovery resolves the same incident; without a key there is nothing to resolve. */
	a->kind = ALERT_RECOVERED;
	j = render("pagerduty", a, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(j, "event_action")), "resolve");
	ck_assert_str_eq(json_string_value(json_object_get(j, "dedup_key")),
			 "schemadrift:billing:drift:3");
	ck_assert_ptr_null(json_object_get(j, "payload"));
	json_decref(j);
	free(a->dedup_key);
	a->dedup_key = NULL;
	{
		struct error err;
		char *body = NULL;

		ck_assert_int_eq(notify_render_type("pagerduty", a, &body, &err), -EINVAL);
		ck_assert_msg(strstr(err.text, "dedup_key") != NULL, "%s", err.text);
	}
	/* Long keys are hashed to PagerDuty's 255. */
	a->kind = ALERT_DRIFT;
	a->dedup_key = malloc(400);
	memset(a->dedup_key, 'k', 399);
	a->dedup_key[399] = '\0';
	j = render("pagerduty", a, NULL);
	ck_assert_uint_le(strlen(json_string_value(json_object_get(j, "dedup_key"))), 255);
	json_decref(j);
	free_names(names);
	alert_free(a);
}
END_TEST

/* ------------------------------------------------------------ limits */

/* 100 listed changes out of 5,000, with long names and multi-kilobyte values. */
static struct alert *huge_alert(void)
{
	struct alert *a = NULL;
	char obj[200], val[1100];

	ck_assert_int_eq(alert_new(ALERT_DRIFT, "billing", &a), 0);
	for (int i = 0; i < ALERT_MAX_CHANGES; i++) {
		snprintf(obj, sizeof(obj), "public.\"%s_%03d_\xc3\xa9\xc3\xa9\xc3\xa9\".column_%03d",
			 "@here_*bold*_<!channel>_xxxxxxxxxxxxxxxxxxxxx", i, i);
		memset(val, 'v', sizeof(val) - 1);
		val[sizeof(val) - 1] = '\0';
		memcpy(val, "<@U1>*", 6);
		add_change(a, "modified", i < 30 ? "breaking" : "warning", "column", obj, "default",
			   val, val + 500);
	}
	a->total_changes = 5000;
	a->by_type[DIFF_MODIFIED] = 5000;
	a->by_severity[DIFF_BREAKING] = 30;
	a->by_severity[DIFF_WARNING] = 4970;
	a->severity = DIFF_BREAKING;
	ck_assert_int_eq(alert_set_str(&a->message, "x"), 0);
	return a;
}

/* The N in "... and N more changes" (exactly one such line). */
static size_t more_count(json_t *j)
{
	const char **strs = NULL;
	size_t n = 0, found = 0, more = 0;

	collect(j, &strs, &n);
	for (size_t i = 0; i < n; i++) {
		const char *p = strstr(strs[i], "... and ");

		if (p) {
			found++;
			ck_assert_int_eq(sscanf(p, "... and %zu more changes", &more), 1);
		}
	}
	free(strs);
	ck_assert_uint_eq(found, 1);
	return more;
}

/* A channel of kind configured with max_changes = 100 (render needs no loop). */
static struct notify_channel *configured(const char *kind)
{
	static struct notify_env env;
	char text[256];
	struct ini *c = NULL;
	struct notify_channel *ch = NULL;
	struct error err;

	snprintf(text, sizeof(text),
		 "[notifier x]\ntype = %s\nurl = https://hooks.invalid/x\nmax_changes = 100\n", kind);
	ck_assert_int_eq(ini_parse(text, strlen(text), "t.conf", &c, &err), 0);
	ck_assert_msg(notify_channel_new(&env, &c->sections[0], &ch, &err) == 0, "%s", err.text);
	ini_free(c);
	return ch;
}

static json_t *render_ch(struct notify_channel *ch, const struct alert *a, size_t *ret_len)
{
	struct error err;
	char *body = NULL;
	json_t *j;

	ck_assert_msg(ch->backend->render(ch, a, &body, &err) == 0, "%s", err.text);
	*ret_len = strlen(body);
	j = json_loads(body, 0, NULL);
	ck_assert_ptr_nonnull(j);
	free(body);
	return j;
}

START_TEST(test_slack_limits)
{
	struct alert *a = huge_alert();
	struct notify_channel *ch = configured("slack");
	size_t len, shown = 0, i;
	json_t *j = render_ch(ch, a, &len), *b;
	json_t *blocks = json_object_get(j, "blocks");

	ck_assert_uint_le(json_array_size(blocks), 50);
	json_array_foreach(blocks, i, b) {
		json_t *text = json_object_get(b, "text");
		const char *s = json_string_value(json_object_get(text, "text"));

		if (!s)
			continue;
		if (strcmp(json_string_value(json_object_get(b, "type")), "header") == 0)
			ck_assert_uint_le(chars(s), 150);
		ck_assert_uint_le(chars(s), 3000);
		for (const char *p = strstr(s, "\xe2\x80\xa2 "); p; p = strstr(p + 1, "\xe2\x80\xa2 "))
			shown++;
	}
	ck_assert_uint_eq(shown, 100);
	ck_assert_uint_eq(more_count(j), 5000 - shown);
	ck_assert_uint_le(chars(json_string_value(json_object_get(j, "text"))), 3000);
	json_decref(j);
	notify_channel_free(ch);
	alert_free(a);
}
END_TEST

START_TEST(test_discord_limits)
{
	struct alert *a = huge_alert();
	struct notify_channel *ch = configured("discord");
	size_t len, total, i;
	json_t *j = render_ch(ch, a, &len), *f;
	json_t *e = json_array_get(json_object_get(j, "embeds"), 0);
	json_t *fields = json_object_get(e, "fields");

	ck_assert_uint_le(chars(json_string_value(json_object_get(j, "content"))), 2000);
	ck_assert_uint_le(chars(json_string_value(json_object_get(e, "title"))), 256);
	ck_assert_uint_le(chars(json_string_value(json_object_get(e, "description"))), 4096);
	ck_assert_uint_le(json_array_size(fields), 25);
	total = chars(json_string_value(json_object_get(e, "title"))) +
		chars(json_string_value(json_object_get(e, "description"))) +
		chars(json_string_value(json_object_get(json_object_get(e, "footer"), "text")));
	json_array_foreach(fields, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *value = json_string_value(json_object_get(f, "value"));

		ck_assert_uint_le(chars(name), 256);
		ck_assert_uint_le(chars(value), 1024);
		total += chars(name) + chars(value);
	}
	ck_assert_uint_le(total, 6000);
	ck_assert_uint_gt(json_array_size(fields), 0);
	ck_assert_uint_eq(more_count(j), 5000 - json_array_size(fields));
	json_decref(j);
	notify_channel_free(ch);
	alert_free(a);
}
END_TEST

START_TEST(test_teams_limits)
{
	struct alert *a = huge_alert();
	struct notify_channel *ch = configured("teams");
	size_t len, shown = 0, i;
	json_t *j = render_ch(ch, a, &len), *b;
	json_t *body = json_object_get(
		json_object_get(json_array_get(json_object_get(j, "attachments"), 0), "content"),
		"body");

	ck_assert_uint_lt(len, 28 * 1024);
	json_array_foreach(body, i, b) {
		json_t *first = json_array_get(json_object_get(b, "inlines"), 0);
		const char *t = json_string_value(json_object_get(first, "text"));

		if (t && (strcmp(t, "breaking") == 0 || strcmp(t, "warning") == 0))
			shown++;
	}
	ck_assert_uint_gt(shown, 0);
	ck_assert_uint_lt(shown, 100);
	ck_assert_uint_eq(more_count(j), 5000 - shown);
	json_decref(j);
	notify_channel_free(ch);
	alert_free(a);
}
END_TEST

START_TEST(test_webhook_and_pagerduty_limits)
{
	struct alert *a = huge_alert();
	char target[2000];
	json_t *j;

	j = render("webhook", a, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "changes")), 100);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "changes_omitted")), 4900);
	json_decref(j);

	memset(target, 't', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	ck_assert_int_eq(alert_set_str(&a->target, target), 0);
	j = render("pagerduty", a, NULL);
	ck_assert_uint_le(chars(json_string_value(
				  json_object_get(json_object_get(j, "payload"), "summary"))),
			  1024);
	json_decref(j);
	alert_free(a);
}
END_TEST

START_TEST(test_every_kind_renders_on_every_channel)
{
	for (int k = ALERT_DRIFT; k <= ALERT_TEST; k++) {
		for (size_t c = 0; c < sizeof(all_channels) / sizeof(all_channels[0]); c++) {
			struct alert *a = NULL;
			json_t *j;

			ck_assert_int_eq(alert_new((enum alert_kind)k, k == ALERT_TEST ? NULL : "db",
						   &a),
					 0);
			ck_assert_int_eq(alert_set_str(&a->message, "@here <b>msg</b>\r\nnext"), 0);
			ck_assert_int_eq(alert_set_str(&a->dedup_key, "k"), 0);
			j = render(all_channels[c], a, NULL);
			json_decref(j);
			alert_free(a);
		}
	}
	(void)chat_channels;
}
END_TEST

/* Every channel carries each change's attribution and the alert's note on it,
 * and the outbox keeps them. */
START_TEST(test_attribution_on_every_channel)
{
	static const char who[] = "by alice from 10.0.0.5 (deploy-tool) at 2026-12-03T12:00:00Z: "
				  "ALTER TABLE public.orders ADD COLUMN note text";
	struct alert *a = NULL, *back = NULL;
	struct error err;
	json_t *j;

	ck_assert_int_eq(alert_new(ALERT_DRIFT, "billing", &a), 0);
	add_change(a, "added", "info", "column", "public.orders.note", NULL, NULL, NULL);
	add_change(a, "added", "info", "table", "public.sneaky", NULL, NULL, NULL);
	a->changes[0].attribution = strdup(who);
	a->changes[1].attribution = strdup(RECORDER_UNATTRIBUTED);
	a->total_changes = 2;
	a->by_type[DIFF_ADDED] = 2;
	a->by_severity[DIFF_INFO] = 2;
	ck_assert_int_eq(alert_set_str(&a->attribution, "the DDL recorder is disabled"), 0);
	ck_assert_int_eq(alert_set_str(&a->dedup_key, "k"), 0);
	for (size_t c = 0; c < sizeof(all_channels) / sizeof(all_channels[0]); c++) {
		char *body;

		j = render(all_channels[c], a, &body);
		/* Escaping differs per channel (Discord's backslashes): compare
		 * without them. */
		char *w = body;
		for (char *r = body; *r; r++)
			if (*r != '\\')
				*w++ = *r;
		*w = '\0';
		ck_assert_msg(strstr(body, "by alice from 10.0.0.5 (deploy-tool) at 2026-12-03T12:00:00Z"),
			      "%s: no attribution: %s", all_channels[c], body);
		ck_assert_msg(strstr(body, "ADD COLUMN note text"), "%s: %s", all_channels[c], body);
		ck_assert_msg(strstr(body, "unattributed: no DDL recorder row"), "%s: %s",
			      all_channels[c], body);
		ck_assert_msg(strstr(body, "the DDL recorder is disabled"), "%s: %s",
			      all_channels[c], body);
		free(body);
		json_decref(j);
	}
	j = alert_to_json(a);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(alert_from_json(j, &back, &err), 0);
	ck_assert_str_eq(back->changes[0].attribution, who);
	ck_assert_str_eq(back->changes[1].attribution, RECORDER_UNATTRIBUTED);
	ck_assert_str_eq(back->attribution, "the DDL recorder is disabled");
	json_decref(j);
	alert_free(back);
	alert_free(a);
}
END_TEST

/* From a diff: without a recorder no change is attributed and the note says
 * how to turn it on; with one, rows are matched by object identity. */
START_TEST(test_attribution_from_a_diff)
{
	struct model *m1, *m2;
	struct diff *d = NULL;
	struct alert *a = NULL;
	struct model_recorder rec = { .schema = "schemadrift", .ddl_trigger = "origin",
				      .drop_trigger = "origin", .readable = true };
	struct model_ddl_event ev[] = {
		{ .id = 2, .at = "2026-12-03T12:00:05Z", .session_role = "bob",
		  .current_role = "bob", .application = "psql", .command_tag = "CREATE INDEX",
		  .object_type = "index", .object_identity = "public.orders_idx",
		  .statement = "CREATE INDEX orders_idx\n   ON public.orders (id)" },
		{ .id = 1, .at = "2026-12-03T12:00:01Z", .session_role = "alice",
		  .current_role = "owner", .client_addr = "10.0.0.5", .application = "deploy",
		  .command_tag = "ALTER TABLE", .object_type = "table",
		  .object_identity = "public.orders", .statement = "ALTER TABLE orders ADD note text" },
		{ .id = 0, .at = "2026-12-01T00:00:00Z", .session_role = "old",
		  .object_identity = "public.gone" },
	};

	ck_assert_int_eq(model_new(&m1), 0);
	ck_assert_int_eq(model_new(&m2), 0);
	m1->taken_at = "2026-12-03T11:00:00Z";
	model_begin(m1, MODEL_TABLE, "public", NULL, "orders", NULL);
	model_end(m1);
	model_begin(m1, MODEL_TABLE, "public", NULL, "gone", NULL);
	model_set_str(m1, "owner", "x");
	model_end(m1);
	model_begin(m2, MODEL_TABLE, "public", NULL, "orders", NULL);
	model_end(m2);
	model_begin(m2, MODEL_COLUMN, "public", "orders", "note", NULL);
	model_set_str(m2, "type", "text");
	model_end(m2);
	model_begin(m2, MODEL_INDEX, "public", "orders", "orders_idx", NULL);
	model_set_str(m2, "definition", "CREATE INDEX orders_idx ON public.orders (id)");
	model_end(m2);
	ck_assert_int_eq(model_finish(m1), 0);
	ck_assert_int_eq(model_finish(m2), 0);

	ck_assert_int_eq(diff_models(m1, m2, &d), 0);
	ck_assert_int_eq(alert_new(ALERT_DRIFT, "billing", &a), 0);
	ck_assert_int_eq(alert_set_diff(a, d), 0);
	ck_assert_ptr_nonnull(strstr(a->attribution, "schemadrift audit install"));
	for (size_t i = 0; i < a->n_changes; i++)
		ck_assert_ptr_null(a->changes[i].attribution);
	alert_free(a);
	diff_free(d);

	rec.events = ev;
	rec.n_events = 3;
	m2->recorder = &rec;
	ck_assert_int_eq(diff_models(m1, m2, &d), 0);
	ck_assert_int_eq(alert_new(ALERT_DRIFT, "billing", &a), 0);
	ck_assert_int_eq(alert_set_diff(a, d), 0);
	ck_assert_ptr_null(a->attribution);
	ck_assert_uint_eq(a->n_changes, 3);
	for (size_t i = 0; i < a->n_changes; i++) {
		const struct alert_change *c = &a->changes[i];

		if (strcmp(c->object, "public.orders.note") == 0)
			ck_assert_str_eq(c->attribution,
					 "by alice as owner from 10.0.0.5 (deploy) at "
					 "2026-12-03T12:00:01Z: ALTER TABLE orders ADD note text");
		else if (strcmp(c->object, "public.orders_idx") == 0)
			ck_assert_str_eq(c->attribution,
					 "by bob from the local socket (psql) at 2026-12-03T12:00:05Z: "
					 "CREATE INDEX orders_idx ON public.orders (id)");
		else /* public.gone: its only row is older than the `from` side */
			ck_assert_str_eq(c->attribution, RECORDER_UNATTRIBUTED);
	}
	alert_free(a);
	diff_free(d);
	rec.drop_trigger = "disabled";
	ck_assert_int_eq(diff_models(m1, m2, &d), 0);
	ck_assert_int_eq(alert_new(ALERT_DRIFT, "billing", &a), 0);
	ck_assert_int_eq(alert_set_diff(a, d), 0);
	ck_assert_ptr_nonnull(strstr(a->attribution, "disabled"));
	alert_free(a);
	diff_free(d);
	m2->recorder = NULL;
	model_free(m1);
	model_free(m2);
}
END_TEST

/* ------------------------------------------------------------ configuration */

static const char *channel_error(const char *text)
{
	static struct error err;
	struct notify_env env = { 0 };
	struct notify_channel *ch = NULL;
	struct ini *c = NULL;
	int r;

	ck_assert_msg(ini_parse(text, strlen(text), "n.conf", &c, &err) == 0, "%s", err.text);
	r = notify_channel_new(&env, &c->sections[0], &ch, &err);
	ck_assert_msg(r < 0, "configured: %s", text);
	ck_assert_ptr_null(ch);
	ini_free(c);
	return err.text;
}

/* Every type's key table: unique documented keys, each in the sample with its
 * default, and the defaults are what a minimal section gets. */
START_TEST(test_key_tables)
{
	static const char *const types[] = { "webhook", "pagerduty", "slack", "teams", "discord",
					     "smtp" };
	struct notify_env env = { 0 };
	char *sample = NULL, line[256];
	size_t sample_len = 0;
	FILE *f = open_memstream(&sample, &sample_len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(notify_write_sample(f), 0);
	ck_assert_int_eq(fclose(f), 0);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const struct notify_backend *b = notify_backend_find(types[i]);
		char *block, *end;

		ck_assert_ptr_nonnull(b);
		ck_assert_uint_gt(b->n_keys, 0);
		snprintf(line, sizeof(line), "\n#type = %s\n", b->name);
		block = strstr(sample, line);
		ck_assert_msg(block, "sample lacks %s", line);
		/* This type's template runs to the next one. */
		block = strndup(block, (end = strstr(block + 1, "#[notifier")) ? (size_t)(end - block)
										    : strlen(block));
		ck_assert_ptr_nonnull(block);
		for (size_t k = 0; k < b->n_keys; k++) {
			ck_assert_msg(b->keys[k].doc && b->keys[k].doc[0], "%s %s: no doc", b->name,
				      b->keys[k].key);
			ck_assert_msg(strcmp(b->keys[k].key, "type") != 0, "type is not a table key");
			for (size_t j = 0; j < k; j++)
				ck_assert_msg(strcmp(b->keys[j].key, b->keys[k].key) != 0,
					      "%s: %s twice", b->name, b->keys[k].key);
			snprintf(line, sizeof(line), "\n#%s = %s\n", b->keys[k].key,
				 b->keys[k].def ? b->keys[k].def : "");
			ck_assert_msg(strstr(block, line), "%s template lacks %s", b->name, line);
		}
		free(block);
	}
	free(sample);

	/* Defaults from the tables: max_changes 20 for chat channels and pagerduty,
	 * 100 for webhook; the HTTP timeouts 10 s and 30 s. */
	for (size_t i = 0; i < 5; i++) {
		char text[256];
		struct ini *c = NULL;
		struct notify_channel *ch = NULL;
		struct error err;
		const struct notify_http *h;

		snprintf(text, sizeof(text),
			 "[notifier x]\ntype = %s\nurl = https://hooks.invalid/x\n%s", types[i],
			 strcmp(types[i], "pagerduty") == 0 ? "routing_key = R0UT1NGKEY\n" : "");
		ck_assert_int_eq(ini_parse(text, strlen(text), "t.conf", &c, &err), 0);
		ck_assert_msg(notify_channel_new(&env, &c->sections[0], &ch, &err) == 0, "%s",
			      err.text);
		h = ch->state; /* struct notify_http comes first in every HTTP channel's state */
		ck_assert_int_eq(h->max_changes, strcmp(types[i], "webhook") == 0 ? 100 : 20);
		ck_assert_int_eq(h->connect_timeout_ms, 10000);
		ck_assert_int_eq(h->timeout_ms, 30000);
		ck_assert(!h->allow_http && !h->follow_redirects);
		notify_channel_free(ch);
		ini_free(c);
	}
}
END_TEST

START_TEST(test_channel_config_errors)
{
	ck_assert_str_eq(channel_error("[notifier ops]\nurl = https://x/SECRET\n"),
			 "n.conf:1: [notifier ops]: needs type = (one of webhook, pagerduty, "
			 "slack, teams, discord, smtp)");
	ck_assert_str_eq(channel_error("[notifier ops]\ntype = pigeon\n"),
			 "n.conf:2: key 'type': unknown notifier type 'pigeon' (one of webhook, "
			 "pagerduty, slack, teams, discord, smtp)");
	ck_assert_msg(strstr(channel_error("[notifier ops]\ntype = slack\n"),
			     "n.conf:1: [notifier ops]: needs url =") != NULL,
		      "missing url");
	ck_assert_str_eq(channel_error("[notifier ops]\ntype = slack\nurl = "
				       "http://hooks.example/services/SECRET\n"),
			 "n.conf:3: key 'url': webhook for channel 'ops': plain http is refused "
			 "(allow_http = true allows it)");
	ck_assert_str_eq(channel_error("[notifier ops]\ntype = teams\nurl = ftp://x/SECRET\n"),
			 "n.conf:3: key 'url': webhook for channel 'ops': it must be an https:// "
			 "URL");
	ck_assert_str_eq(channel_error("[notifier ops]\ntype = discord\nurl = https://x/a b\n"),
			 "n.conf:3: key 'url': webhook for channel 'ops': the URL contains blanks "
			 "or control characters");
	ck_assert_str_eq(channel_error("[notifier ops]\ntype = slack\nurl = https://x/y\n"
				       "channel = #ops\n"),
			 "n.conf:4: key 'channel': unknown key for a slack notifier");
	ck_assert_str_eq(channel_error("[notifier ops]\ntype = slack\nurl = https://x/y\n"
				       "max_changes = 500\n"),
			 "n.conf:4: key 'max_changes': expected an integer from 1 to 100");
	ck_assert_str_eq(channel_error("[notifier pd]\ntype = pagerduty\n"),
			 "n.conf:1: [notifier pd]: needs routing_key = (the integration key; "
			 "better file:PATH or credential:NAME, it is a secret)");
}
END_TEST

START_TEST(test_webhook_config_errors)
{
	const char *e;

	e = channel_error("[notifier h]\ntype = webhook\nurl = https://x\nsecret = hunter2hunter2\n");
	ck_assert_msg(strstr(e, "n.conf:4: key 'secret': the signing secret must look like whsec_") != NULL, "%s", e);
	ck_assert_ptr_null(strstr(e, "hunter2"));
	e = channel_error("[notifier h]\ntype = webhook\nurl = https://x\nsecret = whsec_!!notbase64\n");
	ck_assert_str_eq(e, "n.conf:4: key 'secret': the part after whsec_ is not base64");
	e = channel_error("[notifier h]\ntype = webhook\nurl = https://x\nsecret = whsec_c2hvcnQ=\n");
	ck_assert_str_eq(e, "n.conf:4: key 'secret': the signing key is 5 bytes; use at least 16");
	e = channel_error("[notifier h]\ntype = webhook\nurl = https://x\n"
			  "header = webhook-signature: forged\n");
	ck_assert_str_eq(e, "n.conf:4: key 'header': header webhook-signature is set by schemadrift");
	e = channel_error("[notifier h]\ntype = webhook\nurl = https://x\nheader = no colon\n");
	ck_assert_str_eq(e, "n.conf:4: key 'header': expected 'Name: value'");
	e = channel_error("[notifier h]\ntype = webhook\nurl = https://x\nheader = Bad Name: v\n");
	ck_assert_str_eq(e, "n.conf:4: key 'header': invalid header name");
}
END_TEST

/* ------------------------------------------------------------ retry classification */

static struct notify_result classify(int error, long status, const char *retry_after,
				     const char *body)
{
	static const char *const secrets[] = { "/services/T0/B0/SECRET", "R0UTINGKEY" };
	struct http_header h = { (char *)"Retry-After", (char *)retry_after };
	struct http_response res = { .error = error, .status = status,
				     .body = (char *)(body ? body : ""),
				     .body_len = body ? strlen(body) : 0,
				     .headers = retry_after ? &h : NULL,
				     .n_headers = retry_after ? 1 : 0 };
	struct notify_result out;

	if (error)
		snprintf(res.message, sizeof(res.message), "Failed to connect to hooks.example port 443");
	notify_http_classify(&res, secrets, 2, &out);
	return out;
}

START_TEST(test_retry_classification)
{
	struct notify_result r;

	r = classify(0, 200, NULL, "ok");
	ck_assert_int_eq(r.status, NOTIFY_DELIVERED);
	ck_assert_str_eq(r.detail, "HTTP 200: ok");
	r = classify(0, 202, NULL, "");
	ck_assert_int_eq(r.status, NOTIFY_DELIVERED);
	ck_assert_str_eq(r.detail, "HTTP 202");
	r = classify(0, 500, NULL, "oops\r\n  with   lines");
	ck_assert_int_eq(r.status, NOTIFY_RETRY);
	ck_assert_str_eq(r.detail, "HTTP 500: oops with lines");
	r = classify(0, 503, "120", NULL);
	ck_assert_int_eq(r.status, NOTIFY_RETRY);
	ck_assert_int_eq(r.retry_after_s, 120);
	r = classify(0, 429, "30", "rate_limited");
	ck_assert_int_eq(r.status, NOTIFY_RETRY);
	ck_assert_int_eq(r.retry_after_s, 30);
	ck_assert_str_eq(r.detail, "HTTP 429 (retry after 30 s): rate_limited");
	r = classify(0, 429, NULL, "{\"message\":\"You are being rate limited.\",\"retry_after\":1.2}");
	ck_assert_int_eq(r.retry_after_s, 2);
	r = classify(0, 429, "999999", NULL);
	ck_assert_int_eq(r.retry_after_s, 86400);
	r = classify(0, 408, NULL, NULL);
	ck_assert_int_eq(r.status, NOTIFY_RETRY);
	r = classify(0, 400, NULL, "invalid_payload");
	ck_assert_int_eq(r.status, NOTIFY_FAILED);
	ck_assert_str_eq(r.detail, "HTTP 400: invalid_payload");
	r = classify(0, 404, NULL, "Cannot POST /services/T0/B0/SECRET (R0UTINGKEY)");
	ck_assert_int_eq(r.status, NOTIFY_FAILED);
	ck_assert_str_eq(r.detail, "HTTP 404: Cannot POST [redacted] ([redacted])");
	/* A secret across the snippet's cut leaves no prefix of itself behind. */
	{
		char body[400];

		memset(body, 'x', 190);
		snprintf(body + 190, sizeof(body) - 190, "/services/T0/B0/SECRET tail");
		r = classify(0, 400, NULL, body);
		ck_assert_msg(strstr(r.detail, "/serv") == NULL, "%s", r.detail);
		ck_assert_msg(strstr(r.detail, "[redacted]") != NULL, "%s", r.detail);
	}
	r = classify(0, 302, NULL, NULL);
	ck_assert_int_eq(r.status, NOTIFY_FAILED);
	ck_assert_msg(strstr(r.detail, "follow_redirects") != NULL, "%s", r.detail);
	r = classify(-ETIMEDOUT, 0, NULL, NULL);
	ck_assert_int_eq(r.status, NOTIFY_RETRY);
	ck_assert_msg(strncmp(r.detail, "no answer in time: ", 19) == 0, "%s", r.detail);
	r = classify(-ECONNREFUSED, 0, NULL, NULL);
	ck_assert_int_eq(r.status, NOTIFY_RETRY);
	r = classify(-EPROTO, 0, NULL, NULL);
	ck_assert_int_eq(r.status, NOTIFY_RETRY);
	r = classify(-EPROTONOSUPPORT, 0, NULL, NULL);
	ck_assert_int_eq(r.status, NOTIFY_FAILED);
	r = classify(-EINVAL, 0, NULL, NULL);
	ck_assert_int_eq(r.status, NOTIFY_FAILED);
}
END_TEST

START_TEST(test_retry_after_forms)
{
	struct http_header h = { (char *)"retry-after", NULL };
	struct http_response res = { .headers = &h, .n_headers = 1 };
	time_t now = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */

	h.value = (char *)"Wed, 21 Oct 2015 07:28:30 GMT";
	ck_assert_int_eq(http_retry_after(&res, now), 30);
	h.value = (char *)"Wed, 21 Oct 2015 07:27:00 GMT";
	ck_assert_int_eq(http_retry_after(&res, now), 0);
	h.value = (char *)"15";
	ck_assert_int_eq(http_retry_after(&res, now), 15);
	h.value = (char *)"soon";
	ck_assert_int_eq(http_retry_after(&res, now), -1);
	res.n_headers = 0;
	ck_assert_int_eq(http_retry_after(&res, now), -1);
}
END_TEST

START_TEST(test_text_helpers)
{
	char *s;

	ck_assert_uint_eq(notify_text_units("a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80"), 5);
	s = notify_truncate("\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5", 3);
	ck_assert_str_eq(s, "\xe6\x97\xa5\xe6\x97\xa5\xe2\x80\xa6");
	free(s);
	s = notify_truncate("short", 10);
	ck_assert_str_eq(s, "short");
	free(s);
	ck_assert(notify_id_is_token("0123abcdef"));
	ck_assert(!notify_id_is_token("a b"));
	ck_assert(!notify_id_is_token("a\r\nX-Evil: 1"));
	ck_assert(!notify_id_is_token(""));
}
END_TEST

static Suite *alert_suite(void)
{
	Suite *s = suite_create("alert");
	TCase *model = tcase_create("model"), *rend = tcase_create("render");
	TCase *lim = tcase_create("limits"), *conf = tcase_create("config");

	tcase_add_test(model, test_new_and_kinds);
	tcase_add_test(model, test_set_str_cleans);
	tcase_add_test(model, test_set_diff_orders_and_counts);
	tcase_add_test(model, test_attribution_from_a_diff);
	tcase_add_test(model, test_attribution_on_every_channel);
	tcase_add_test(model, test_acknowledged_changes_raise_nothing);
	tcase_add_test(model, test_set_diff_json);
	tcase_add_test(model, test_top_changes_are_capped);
	tcase_add_test(model, test_json_round_trip);
	tcase_add_test(model, test_link_template);
	tcase_add_test(model, test_headlines);
	tcase_add_test(rend, test_webhook_renders_names_literally);
	tcase_add_test(rend, test_slack_renders_names_literally);
	tcase_add_test(rend, test_discord_renders_names_literally);
	tcase_add_test(rend, test_teams_renders_names_literally);
	tcase_add_test(rend, test_pagerduty_event_fields);
	tcase_add_test(rend, test_every_kind_renders_on_every_channel);
	tcase_add_test(lim, test_slack_limits);
	tcase_add_test(lim, test_discord_limits);
	tcase_add_test(lim, test_teams_limits);
	tcase_add_test(lim, test_webhook_and_pagerduty_limits);
	tcase_add_test(conf, test_key_tables);
	tcase_add_test(conf, test_channel_config_errors);
	tcase_add_test(conf, test_webhook_config_errors);
	tcase_add_test(conf, test_retry_classification);
	tcase_add_test(conf, test_retry_after_forms);
	tcase_add_test(conf, test_text_helpers);
	suite_add_tcase(s, model);
	suite_add_tcase(s, rend);
	suite_add_tcase(s, lim);
	suite_add_tcase(s, conf);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(alert_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
