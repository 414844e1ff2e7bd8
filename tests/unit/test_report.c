/* Unit tests for lib/report.c and lib/alert_log.c: escaping, quiet runs as spans, a page. */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "alert.h"
#include "alert_log.h"
#include "report.h"
#include "snapshot.h"
#include "store.h"

#define T0 ((time_t)1795000000)

static char state_dir[256];
static time_t fake_now;

static time_t fake_clock(void *data)
{
	(void)data;
	return fake_now;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	snprintf(state_dir, sizeof(state_dir), "/tmp/test-report-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(state_dir));
	fake_now = T0;
}

static void teardown(void)
{
	nftw(state_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* report_escape() of n bytes, as a malloc'd string. */
static char *escaped(const char *s, size_t n, bool multiline)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	report_escape(f, s, n, multiline);
	fclose(f);
	return buf;
}

static void assert_escape(const char *in, bool multiline, const char *want)
{
	char *got = escaped(in, strlen(in), multiline);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(escape_markup_and_quotes)
{
	assert_escape("<img src=x onerror=alert(1)>", false, "&lt;img src=x onerror=alert(1)&gt;");
	assert_escape("a&b \"c\" 'd'", false, "a&amp;b &quot;c&quot; &#39;d&#39;");
	assert_escape("</td><script>", false, "&lt;/td&gt;&lt;script&gt;");
	assert_escape("plain", false, "plain");
}
END_TEST

START_TEST(escape_controls_bidi_and_bad_utf8)
{
	/* U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LRI, U+200B ZWSP, U+FEFF BOM: shown, not obeyed. */
	assert_escape("evil\xe2\x80\xaegnp.exe", false, "evil\\u202Egnp.exe");
	assert_escape("\xe2\x81\xa6x\xe2\x80\x8b\xef\xbb\xbf", false, "\\u2066x\\u200B\\uFEFF");
	/* Bytes that are not UTF-8 (SQL_ASCII databases), and a cut sequence. */
	assert_escape("caf\xe9", false, "caf\\xe9");
	assert_escape("x\xe2\x80", false, "x\\xe2\\x80");
	/* Valid non-ASCII stays as it is. */
	assert_escape("caf\xc3\xa9 \xe6\x97\xa5", false, "caf\xc3\xa9 \xe6\x97\xa5");
	/* Control characters; newlines and tabs only in multi-line text. */
	assert_escape("a\nb\tc\x1b[31m\x7f", false, "a\\x0ab\\x09c\\x1b[31m\\x7f");
	assert_escape("a\nb\tc\x1b", true, "a\nb\tc\\x1b");
	/* C1 controls (U+0085 NEL, U+009B CSI). */
	assert_escape("\xc2\x85\xc2\x9b", false, "\\u0085\\u009B");
	/* An embedded NUL within n is shown, not a terminator. */
	char *got = escaped("a\0b", 3, false);
	ck_assert_str_eq(got, "a\\x00b");
	free(got);
}
END_TEST

static struct model *make_model(int tables)
{
	struct model *m;
	char name[32];

	ck_assert_int_eq(model_new(&m), 0);
	ck_assert_int_eq(model_begin(m, MODEL_SCHEMA, NULL, NULL, "public", NULL), 0);
	ck_assert_int_eq(model_end(m), 0);
	for (int i = 0; i < tables; i++) {
		snprintf(name, sizeof(name), i ? "t%d" : "<b>x</b>", i);
		ck_assert_int_eq(model_begin(m, MODEL_TABLE, "public", NULL, name, NULL), 0);
		model_set_bool(m, "unlogged", false);
		ck_assert_int_eq(model_end(m), 0);
		ck_assert_int_eq(model_begin(m, MODEL_COLUMN, "public", name, "id", NULL), 0);
		model_set_int(m, "position", 1);
		model_set_str(m, "type", i == 0 && tables > 2 ? "bigint" : "integer");
		ck_assert_int_eq(model_end(m), 0);
	}
	ck_assert_int_eq(model_finish(m), 0);
	ck_assert_int_eq(snapshot_hash(m), 0);
	return m;
}

static void record(struct store *s, struct model *m, const char *unchanged, const char *error)
{
	struct store_record rec = { .model = m, .unchanged = unchanged, .error = error,
				    .unchanged_objects = 3, .duration_ms = 5 };
	struct error err;

	ck_assert_msg(store_record_run(s, &rec, NULL, &err) == 0, "%s", err.text);
}

static char *page(const struct report_options *o, const char *target)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct error err;

	ck_assert_msg(target ? report_write_target(o, target, f, &err) == 0
			     : report_write_fleet(o, f, &err) == 0, "%s", err.text);
	fclose(f);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* 10,000 quiet runs, failures among them, three schemas: a handful of rows, a small page. */
START_TEST(quiet_runs_are_spans)
{
	struct store_options so = { .state_dir = state_dir, .now = fake_clock };
	struct report_options o = { .state_dir = state_dir, .now = T0 + 20000 * 60 };
	struct model *a = make_model(2), *b = make_model(3);
	char ha[65], hb[65];
	struct store *s;
	struct error err;

	snapshot_hash_hex(a->hash, ha);
	snapshot_hash_hex(b->hash, hb);
	ck_assert_msg(store_open(&so, "app", true, &s, &err) == 0, "%s", err.text);
	record(s, a, NULL, NULL);
	ck_assert_int_eq(store_baseline_set(s, ha, "baseline accept", "alice", "<i>first</i>", &err), 0);
	for (int i = 1; i < 10000; i++) {
		fake_now = T0 + (time_t)i * 60;
		if (i == 6000)
			record(s, b, NULL, NULL);
		else if (i % 1000 == 500)
			record(s, NULL, NULL, "host=db1 port=5432: <timeout>");
		else
			record(s, NULL, i < 6000 ? ha : hb, NULL);
	}
	store_free(s);

	char *html = page(&o, "app");
	/* first snapshot, one change, the accept, and the spans between them */
	ck_assert_uint_eq(count(html, "<tr class=\"r-change\">"), 2);
	ck_assert_uint_eq(count(html, "<tr class=\"r-baseline\">"), 1);
	ck_assert_uint_le(count(html, "<tr class=\"r-span\">"), 3);
	ck_assert_ptr_nonnull(strstr(html, "5999 runs of schema"));
	ck_assert_ptr_nonnull(strstr(html, "4000 runs of schema"));
	ck_assert_ptr_nonnull(strstr(html, "4 failed</span>: host=db1 port=5432: &lt;timeout&gt;"));
	/* the change, attribute by attribute, with the table's hostile name as text */
	ck_assert_ptr_nonnull(strstr(html, "public.&quot;&lt;b&gt;x&lt;/b&gt;&quot;.id"));
	ck_assert_ptr_nonnull(strstr(html, "<del class=\"before\">integer</del> → "
				   "<ins class=\"after\">bigint</ins>"));
	ck_assert_ptr_nonnull(strstr(html, "&lt;i&gt;first&lt;/i&gt;"));
	ck_assert_ptr_null(strstr(html, "<b>"));
	ck_assert_ptr_null(strstr(html, "<i>first"));
	ck_assert_ptr_null(strstr(html, "<script"));
	ck_assert_uint_lt(strlen(html), 200 * 1024);
	/* drifting since the change, 14,000 minutes before now */
	ck_assert_ptr_nonnull(strstr(html, "data-state=\"drifting\""));
	ck_assert_ptr_nonnull(strstr(html, "<span class=\"drifting-for\">9d 17h</span>"));
	free(html);

	/* --since: only what happened from then on */
	o.since = T0 + 7000 * 60;
	html = page(&o, "app");
	ck_assert_uint_eq(count(html, "<tr class=\"r-change\">"), 0);
	ck_assert_ptr_nonnull(strstr(html, "3000 runs of schema"));
	free(html);

	html = page(&o, NULL);
	ck_assert_ptr_nonnull(strstr(html, "data-target=\"app\""));
	ck_assert_ptr_nonnull(strstr(html, "1 drifting"));
	free(html);
	model_free(a);
	model_free(b);
}
END_TEST

/* The worst a history can be: every run a change, every third a failure. Bounded anyway. */
START_TEST(pathological_history_is_bounded)
{
	struct store_options so = { .state_dir = state_dir, .now = fake_clock };
	struct report_options o = { .state_dir = state_dir, .now = T0 + 10001 * 60 };
	struct model *a = make_model(2), *b = make_model(3);
	char h[2][65], path[512], iso[32], why[301];
	struct store *s;
	struct error err;
	FILE *f;

	snapshot_hash_hex(a->hash, h[0]);
	snapshot_hash_hex(b->hash, h[1]);
	ck_assert_msg(store_open(&so, "app", true, &s, &err) == 0, "%s", err.text);
	record(s, a, NULL, NULL);
	record(s, b, NULL, NULL);
	ck_assert_int_eq(store_baseline_set(s, h[0], "baseline accept", "alice", "x", &err), 0);
	snprintf(path, sizeof(path), "%s/history.log", store_dir(s));
	store_free(s);
	memset(why, '<', 300);
	why[300] = '\0';
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	for (int i = 0; i < 10000; i++) {
		time_t t = T0 + (time_t)i * 60;
		strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		if (i % 3 == 2)
			fprintf(f, "{\"time\":\"%s\",\"outcome\":\"error\",\"duration_ms\":1,"
				"\"error\":\"%s\"}\n", iso, why);
		else
			fprintf(f, "{\"time\":\"%s\",\"outcome\":\"ok\",\"hash\":\"%s\","
				"\"duration_ms\":1,\"objects\":5,\"new\":false,\"from\":\"%s\"}\n",
				iso, h[i % 2], h[(i + 1) % 2]);
	}
	fclose(f);

	char *html = page(&o, "app");
	ck_assert_uint_lt(strlen(html), 2 * 1000 * 1000);
	ck_assert_uint_le(count(html, "<tr class=\"r-"), REPORT_MAX_ROWS);
	ck_assert_ptr_nonnull(strstr(html, "older rows not shown (use --since)"));
	ck_assert_uint_ge(count(html, "<tr class=\"r-change\">"), 300);
	ck_assert_ptr_nonnull(strstr(html, "&lt;&lt;&lt;"));
	ck_assert_uint_le(count(html, "<details class=\"change\""), REPORT_MAX_DETAILED);
	free(html);
	model_free(a);
	model_free(b);
}
END_TEST

START_TEST(alert_log_round_trip)
{
	struct alert *a;
	const char *ch[] = { "hook", "mail" };
	json_t *all;
	size_t bad = 9;
	struct error err;
	FILE *f;
	char path[512];

	ck_assert_int_eq(alert_new(ALERT_DRIFT, "app", &a), 0);
	ck_assert_int_eq(alert_log_append(state_dir, a, ch, 2, &err), 0);
	ck_assert_int_eq(alert_log_append(state_dir, a, NULL, 0, &err), 0);
	/* a line that does not parse, and an append that never finished */
	snprintf(path, sizeof(path), "%s/%s", state_dir, ALERT_LOG_FILE);
	ck_assert_ptr_nonnull(f = fopen(path, "a"));
	fputs("not json\n{\"time\":", f);
	fclose(f);
	ck_assert_int_eq(alert_log_load(state_dir, &all, &bad, &err), 0);
	ck_assert_uint_eq(json_array_size(all), 2);
	ck_assert_uint_eq(bad, 1);
	json_t *e = json_array_get(all, 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "kind")), "drift");
	ck_assert_str_eq(json_string_value(json_object_get(e, "id")), a->id);
	ck_assert_uint_eq(json_array_size(json_object_get(e, "channels")), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(all, 1), "channels")), 0);
	json_decref(all);
	alert_free(a);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, escape_markup_and_quotes);
	tcase_add_test(tc, escape_controls_bidi_and_bad_utf8);
	tcase_add_test(tc, quiet_runs_are_spans);
	tcase_add_test(tc, pathological_history_is_bounded);
	tcase_add_test(tc, alert_log_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
