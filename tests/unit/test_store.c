/* Unit tests for lib/store.c and lib/ack.c with a fake clock: retention, history, baseline, acks, recovery. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ack.h"
#include "diff.h"
#include "fileio.h"
#include "isotime.h"
#include "model.h"
#include "snapshot.h"
#include "store.h"

#define DAY 86400
#define T0 ((time_t)1795000000) /* 2026-11-18T... */

/* ------------------------------------------------------------- fixture */

static time_t fake_now;
static char state_dir[256];
static char warnings[8192];

static time_t fake_clock(void *data)
{
	(void)data;
	return fake_now;
}

static void collect_warning(const char *msg, void *data)
{
	(void)data;
	strncat(warnings, msg, sizeof(warnings) - strlen(warnings) - 2);
	strcat(warnings, "\n");
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
	snprintf(state_dir, sizeof(state_dir), "/tmp/test-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(state_dir));
	fake_now = T0;
	warnings[0] = '\0';
}

static void teardown(void)
{
	nftw(state_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct store *open_target(const char *name)
{
	struct store_options o = { .state_dir = state_dir, .now = fake_clock,
				   .warn = collect_warning };
	struct store *s = NULL;
	struct error err;

	ck_assert_msg(store_open(&o, name, true, &s, &err) == 0, "%s", err.text);
	return s;
}

/*
 * A small model: table public.t (id) plus `extra` tables t1..tN, an index
 * public.t_idx whose definition depends on idx_variant (0: no index), and
 * columns added to t: `cols` of them.
 */
static struct model *make_model(int extra, int idx_variant, int cols)
{
	struct model *m;
	char name[64], def[128];

	ck_assert_int_eq(model_new(&m), 0);
	ck_assert_int_eq(model_begin(m, MODEL_SCHEMA, NULL, NULL, "public", NULL), 0);
	ck_assert_int_eq(model_end(m), 0);
	ck_assert_int_eq(model_begin(m, MODEL_TABLE, "public", NULL, "t", NULL), 0);
	model_set_bool(m, "unlogged", false);
	ck_assert_int_eq(model_end(m), 0);
	for (int i = 0; i <= cols; i++) {
		snprintf(name, sizeof(name), i ? "c%d" : "id", i);
		ck_assert_int_eq(model_begin(m, MODEL_COLUMN, "public", "t", name, NULL), 0);
		model_set_int(m, "position", i + 1);
		model_set_str(m, "type", "integer");
		model_set_bool(m, "not_null", i == 0);
		ck_assert_int_eq(model_end(m), 0);
	}
	for (int i = 1; i <= extra; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		ck_assert_int_eq(model_begin(m, MODEL_TABLE, "public", NULL, name, NULL), 0);
		model_set_bool(m, "unlogged", false);
		ck_assert_int_eq(model_end(m), 0);
	}
	if (idx_variant) {
		snprintf(def, sizeof(def), "CREATE INDEX t_idx ON public.t USING btree (id) WITH (fillfactor=%d)",
			 50 + idx_variant);
		ck_assert_int_eq(model_begin(m, MODEL_INDEX, "public", "t", "t_idx", NULL), 0);
		model_set_str(m, "definition", def);
		model_set_str(m, "method", "btree");
		ck_assert_int_eq(model_end(m), 0);
	}
	ck_assert_int_eq(model_finish(m), 0);
	ck_assert_int_eq(snapshot_hash(m), 0);
	return m;
}

/* Records a run of the model at day `day`; returns its hash in hash (65). */
static void record_at(struct store *s, int day, struct model *m, char *hash)
{
	struct store_record rec = { .model = m, .duration_ms = 10 };
	struct store_run run;
	struct error err;

	fake_now = T0 + (time_t)day * DAY;
	ck_assert_msg(store_record_run(s, &rec, &run, &err) == 0, "%s", err.text);
	if (hash)
		memcpy(hash, run.hash, 65);
	store_run_done(&run);
}

static void record_model(struct store *s, int day, int extra, char *hash)
{
	struct model *m = make_model(extra, 0, 0);

	record_at(s, day, m, hash);
	model_free(m);
}

/* The hashes of the stored snapshots, sorted, joined with spaces (malloc'd). */
static char *stored_set(struct store *s)
{
	char *dir, *out = calloc(1, 65 * 64);
	char names[64][65];
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	ck_assert_int_ge(asprintf(&dir, "%s/snapshots", store_dir(s)), 0);
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (strlen(e->d_name) == 69)
			snprintf(names[n++], 65, "%.64s", e->d_name);
	closedir(d);
	free(dir);
	qsort(names, n, 65, (int (*)(const void *, const void *))strcmp);
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(out, " ");
		strcat(out, names[i]);
	}
	return out;
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The expected set from a list of hashes (NULL-terminated). */
static char *set_of(const char *first, ...)
{
	const char *v[16];
	size_t n = 0;
	char *out = calloc(1, 65 * 16);
	va_list ap;

	va_start(ap, first);
	for (const char *h = first; h; h = va_arg(ap, const char *))
		v[n++] = h;
	va_end(ap);
	qsort(v, n, sizeof(v[0]), strp_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(v[i], v[i - 1]) == 0)
			continue;
		if (out[0])
			strcat(out, " ");
		strcat(out, v[i]);
	}
	return out;
}

static void set_policy(struct store *s, int n, int days, int history_days)
{
	struct store_retention r = { n, days, history_days };
	struct error err;

	ck_assert_msg(store_retention_set(s, &r, &err) == 0, "%s", err.text);
}

static char *read_file(const char *dir, const char *name)
{
	char *path, *buf = NULL;
	size_t len;
	struct error err;

	ck_assert_int_ge(asprintf(&path, "%s/%s", dir, name), 0);
	if (fileio_read_all(path, &buf, &len, &err) < 0)
		buf = NULL;
	free(path);
	return buf;
}

static size_t count_lines(const char *text)
{
	size_t n = 0;

	for (const char *p = text; p && *p; p++)
		n += *p == '\n';
	return n;
}

/*
 * The retention scenario: day 0 A, 1 B (accepted as baseline), 2 C, 3 A
 * again, 10 D, 11 E; now is day 12.  Runs are recorded with a policy that
 * keeps everything, then `policy` is set and pruned on demand.
 */
struct scenario {
	struct store *s;
	char a[65], b[65], c[65], d[65], e[65];
};

static void scenario(struct scenario *sc, const char *target)
{
	struct error err;

	sc->s = open_target(target);
	set_policy(sc->s, 1000, 1000, 1000);
	record_model(sc->s, 0, 1, sc->a);
	record_model(sc->s, 1, 2, sc->b);
	ck_assert_msg(store_baseline_set(sc->s, sc->b, "baseline accept", "tester", "ok", &err) == 0,
		      "%s", err.text);
	record_model(sc->s, 2, 3, sc->c);
	record_model(sc->s, 3, 1, NULL);
	record_model(sc->s, 10, 4, sc->d);
	record_model(sc->s, 11, 5, sc->e);
	fake_now = T0 + 12 * DAY;
}

static void check_prune(int n, int days, const char *expect_names, size_t expect_removed)
{
	static int call;
	struct scenario sc;
	struct store_prune_result res;
	struct error err;
	char *got, *want, target[32];
	const char *map[26] = { 0 };

	snprintf(target, sizeof(target), "app%d", call++); /* a fresh store each time */
	scenario(&sc, target);
	map['a' - 'a'] = sc.a;
	map['b' - 'a'] = sc.b;
	map['c' - 'a'] = sc.c;
	map['d' - 'a'] = sc.d;
	map['e' - 'a'] = sc.e;
	set_policy(sc.s, n, days, 1000);
	ck_assert_msg(store_prune(sc.s, &res, &err) == 0, "%s", err.text);
	{
		const char *v[6] = { 0 };
		size_t k = 0;

		for (const char *p = expect_names; *p; p++)
			v[k++] = map[*p - 'a'];
		want = set_of(v[0], v[1], v[2], v[3], v[4], v[5]);
	}
	got = stored_set(sc.s);
	ck_assert_msg(strcmp(got, want) == 0, "N=%d D=%d: kept\n%s\nexpected (%s)\n%s", n, days, got,
		      expect_names, want);
	ck_assert_uint_eq(res.snapshots_removed, expect_removed);
	ck_assert_uint_eq(res.snapshots_kept, strlen(expect_names));
	free(got);
	free(want);
	store_free(sc.s);
}

/* ---------------------------------------------------------- retention */

START_TEST(retention_exact_sets)
{
	/* Most recently seen first: E, D, A (seen again on day 3), C, B. */
	check_prune(2, 3, "bde", 2);  /* N: E, D; 3 days: D, E; baseline B */
	check_prune(3, 0, "abde", 1); /* N: E, D, A (its last sighting is day 3) */
	check_prune(0, 0, "be", 3);   /* only the baseline and the latest */
	check_prune(0, 2, "bde", 2);  /* D was seen exactly 2 days ago: kept */
	check_prune(0, 1, "be", 3);
	check_prune(0, 9, "abde", 1); /* A seen on day 3 = 9 days ago */
	check_prune(5, 0, "abcde", 0);
}
END_TEST

START_TEST(retention_after_every_run_keeps_baseline_and_latest)
{
	struct store *s = open_target("app");
	char a[65], b[65], h[65];
	struct error err;
	char *got, *want;

	set_policy(s, 0, 0, 1000);
	record_model(s, 0, 1, a);
	ck_assert_int_eq(store_baseline_set(s, a, "baseline accept", "t", "r", &err), 0);
	for (int i = 2; i < 8; i++)
		record_model(s, i, i, h);
	record_model(s, 9, 1, NULL); /* A again: the file exists, nothing new is written */
	record_model(s, 10, 20, b);
	got = stored_set(s);
	want = set_of(a, b, NULL);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	store_free(s);
}
END_TEST

START_TEST(history_trimmed_by_age_exactly_on_demand)
{
	struct scenario sc;
	struct store_prune_result res;
	struct store_history *h;
	struct error err;

	scenario(&sc, "app");
	set_policy(sc.s, 1000, 1000, 5);
	/* cutoff day 7: the four lines of days 0-3 go, days 10 and 11 stay. */
	ck_assert_int_eq(store_prune(sc.s, &res, &err), 0);
	ck_assert_uint_eq(res.lines_removed, 4);
	ck_assert_int_eq(store_history_load(sc.s, &h, &err), 0);
	ck_assert_uint_eq(h->n, 2);
	ck_assert_int_eq(h->runs[0].time, T0 + 10 * DAY);
	ck_assert_str_eq(h->runs[1].hash, sc.e);
	store_history_free(h);

	/* Everything is old: the last line (the latest run) always stays. */
	fake_now = T0 + 100 * DAY;
	ck_assert_int_eq(store_prune(sc.s, &res, &err), 0);
	ck_assert_int_eq(store_history_load(sc.s, &h, &err), 0);
	ck_assert_uint_eq(h->n, 1);
	ck_assert_str_eq(h->runs[0].hash, sc.e);
	store_history_free(h);
	/* ... and so do the baseline's and the latest's snapshots. */
	char *got = stored_set(sc.s), *want = set_of(sc.b, sc.e, sc.d, sc.c, sc.a, NULL);
	ck_assert_str_eq(got, want); /* keep_snapshots=1000 */
	free(got);
	free(want);
	store_free(sc.s);
}
END_TEST

START_TEST(history_trim_after_a_run_waits_a_day_past_the_limit)
{
	struct store *s = open_target("app");
	struct store_history *h;
	struct error err;
	char *text;

	set_policy(s, 1000, 1000, 10);
	record_model(s, 0, 1, NULL);
	record_model(s, 1, 1, NULL);
	record_model(s, 10, 1, NULL);
	/* day 10.5: the day-0 line is half a day past the limit: no rewrite yet. */
	fake_now = T0 + 10 * DAY + DAY / 2;
	{
		struct model *m = make_model(1, 0, 0);
		struct store_record rec = { .model = m };

		ck_assert_int_eq(store_record_run(s, &rec, NULL, &err), 0);
		model_free(m);
	}
	text = read_file(store_dir(s), "history.log");
	ck_assert_uint_eq(count_lines(text), 4);
	free(text);
	/* day 11.5: more than a day past: trimmed to everything within 10 days. */
	fake_now = T0 + 11 * DAY + DAY / 2;
	{
		struct model *m = make_model(1, 0, 0);
		struct store_record rec = { .model = m };

		ck_assert_int_eq(store_record_run(s, &rec, NULL, &err), 0);
		model_free(m);
	}
	ck_assert_int_eq(store_history_load(s, &h, &err), 0);
	for (size_t i = 0; i < h->n; i++)
		ck_assert_int_ge(h->runs[i].time, fake_now - 10 * DAY);
	ck_assert_uint_eq(h->n, 3); /* days 10, 10.5, 11.5 */
	store_history_free(h);
	store_free(s);
}
END_TEST

/* --------------------------------------------------------- runs, history */

START_TEST(runs_are_content_addressed_with_summaries)
{
	struct store *s = open_target("app");
	struct store_history *h;
	struct model *m0 = make_model(0, 0, 0), *m1 = make_model(0, 1, 1);
	struct store_record fail = { .error = "host=db1: connection refused", .duration_ms = 5 };
	struct error err;
	char h0[65], h1[65], *set, *want;

	record_at(s, 0, m0, h0);
	record_at(s, 0, m0, NULL);
	record_at(s, 0, m0, NULL);
	ck_assert_int_eq(store_record_run(s, &fail, NULL, &err), 0);
	record_at(s, 1, m1, h1);
	set = stored_set(s);
	want = set_of(h0, h1, NULL);
	ck_assert_str_eq(set, want); /* 5 runs, 2 files */
	ck_assert_int_eq(store_history_load(s, &h, &err), 0);
	ck_assert_uint_eq(h->n, 5);
	ck_assert(h->runs[0].new_snapshot);
	ck_assert(!h->runs[1].new_snapshot);
	ck_assert_int_eq(h->runs[3].outcome, STORE_RUN_ERROR);
	ck_assert_str_eq(h->runs[3].error, "host=db1: connection refused");
	ck_assert_str_eq(h->runs[4].from, h0);
	ck_assert(h->runs[4].summary.known);
	/* + index, + column c1 */
	ck_assert_uint_eq(h->runs[4].summary.changes, 2);
	ck_assert_uint_eq(h->runs[4].summary.by_type[DIFF_ADDED], 2);
	ck_assert_str_eq(store_history_latest(h)->hash, h1);
	store_history_free(h);
	free(set);
	free(want);
	model_free(m0);
	model_free(m1);
	store_free(s);
}
END_TEST

START_TEST(references_resolve)
{
	struct scenario sc;
	char got[65], prefix[8];
	struct error err;

	scenario(&sc, "app");
	ck_assert_int_eq(store_resolve(sc.s, "latest", got, &err), 0);
	ck_assert_str_eq(got, sc.e);
	ck_assert_int_eq(store_resolve(sc.s, "baseline", got, &err), 0);
	ck_assert_str_eq(got, sc.b);
	snprintf(prefix, sizeof(prefix), "%.6s", sc.c);
	ck_assert_int_eq(store_resolve(sc.s, prefix, got, &err), 0);
	ck_assert_str_eq(got, sc.c);
	ck_assert_int_eq(store_resolve(sc.s, sc.d, got, &err), 0);
	/* The snapshot in force at a time: the last run at or before it. */
	{
		char when[21];

		isotime_format(T0 + 2 * DAY + 3600, when);
		ck_assert_int_eq(store_resolve(sc.s, when, got, &err), 0);
		ck_assert_str_eq(got, sc.c);
		isotime_format(T0 + 5 * DAY, when);
		ck_assert_int_eq(store_resolve(sc.s, when, got, &err), 0);
		ck_assert_str_eq(got, sc.a); /* A came back on day 3 */
		isotime_format(T0 - 1, when);
		ck_assert_int_eq(store_resolve(sc.s, when, got, &err), -ENOENT);
		ck_assert_ptr_nonnull(strstr(err.text, "history starts at"));
	}
	ck_assert_int_eq(store_resolve(sc.s, "0000", got, &err), -ENOENT);
	ck_assert_int_eq(store_resolve(sc.s, "xyz", got, &err), -EINVAL);
	store_free(sc.s);
}
END_TEST

START_TEST(times_parse)
{
	time_t t;
	bool date_only;

	ck_assert_int_eq(store_parse_time("2026-11-20T06:00", &t, &date_only), 0);
	ck_assert(!date_only);
	{
		char buf[21];

		isotime_format(t, buf);
		ck_assert_str_eq(buf, "2026-11-20T06:00:00Z");
	}
	ck_assert_int_eq(store_parse_time("2026-11-20T07:00:00+01:00", &t, NULL), 0);
	{
		char buf[21];

		isotime_format(t, buf);
		ck_assert_str_eq(buf, "2026-11-20T06:00:00Z");
	}
	ck_assert_int_eq(store_parse_time("2026-12-31", &t, &date_only), 0);
	ck_assert(date_only);
	ck_assert_int_eq(store_parse_time("2026-02-30", &t, NULL), -EINVAL);
	ck_assert_int_eq(store_parse_time("2026-11-20T25:00", &t, NULL), -EINVAL);
	ck_assert_int_eq(store_parse_time("20261120", &t, NULL), -EINVAL);
	ck_assert_int_eq(store_parse_time("2026-11-20T06:00:00.123Z", &t, NULL), 0);
}
END_TEST

START_TEST(unfinished_history_line_is_cut_by_the_next_writer)
{
	struct store *s = open_target("app");
	struct store_history *h;
	struct error err;
	char *path, *text;
	FILE *f;

	record_model(s, 0, 1, NULL);
	ck_assert_int_ge(asprintf(&path, "%s/history.log", store_dir(s)), 0);
	/* A writer died inside write(): half a record, no newline. */
	f = fopen(path, "a");
	fputs("{\"time\":\"2026-11-2", f);
	fclose(f);
	ck_assert_int_eq(store_history_load(s, &h, &err), 0);
	ck_assert_uint_eq(h->n, 1);
	ck_assert_uint_eq(h->bad_lines, 0);
	store_history_free(h);
	record_model(s, 1, 2, NULL);
	text = read_file(store_dir(s), "history.log");
	ck_assert_uint_eq(count_lines(text), 2);
	ck_assert_ptr_null(strstr(text, "2026-11-2\""));
	ck_assert_int_eq(text[strlen(text) - 1], '\n');
	free(text);
	free(path);
	store_free(s);
}
END_TEST

/* ---------------------------------------------------------- corruption */

START_TEST(corrupt_snapshot_is_moved_aside_not_deleted)
{
	struct store *s = open_target("app"), *other = open_target("other");
	struct model *m = NULL;
	struct error err;
	char h[65], h2[65], *path, *moved;
	FILE *f;
	struct stat st;

	record_model(s, 0, 1, h);
	record_model(other, 0, 1, h2);
	path = store_snapshot_path(s, h);
	f = fopen(path, "r+");
	fseek(f, 60, SEEK_SET);
	fputs("XXXX", f);
	fclose(f);
	ck_assert_int_eq(store_load_snapshot(s, h, &m, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.text, path));
	ck_assert_ptr_nonnull(strstr(warnings, path));
	ck_assert_ptr_nonnull(strstr(warnings, "/corrupt/"));
	ck_assert_int_eq(stat(path, &st), -1);
	moved = strstr(warnings, "moved to ");
	ck_assert_ptr_nonnull(moved);
	moved += strlen("moved to ");
	moved[strcspn(moved, "\n")] = '\0';
	ck_assert_int_eq(stat(moved, &st), 0); /* kept, for a human to look at */
	/* The other target is untouched. */
	ck_assert_int_eq(store_load_snapshot(other, h2, &m, &err), 0);
	model_free(m);
	/* The next run with the same schema stores the snapshot again. */
	record_model(s, 1, 1, NULL);
	ck_assert_int_eq(stat(path, &st), 0);
	free(path);
	store_free(s);
	store_free(other);
}
END_TEST

START_TEST(corrupt_baseline_is_moved_aside_and_restored_from_the_audit_log)
{
	struct store *s = open_target("app");
	struct store_baseline b;
	struct error err;
	char h[65], *path;
	FILE *f;

	record_model(s, 0, 1, h);
	ck_assert_int_eq(store_baseline_set(s, h, "baseline accept", "alice", "release 7", &err), 0);
	ck_assert_int_ge(asprintf(&path, "%s/baseline.json", store_dir(s)), 0);
	f = fopen(path, "w");
	fputs("{\"version\":1,\"hash\":\"trunc", f);
	fclose(f);
	ck_assert_msg(store_baseline_get(s, &b, &err) == 0, "%s", err.text);
	ck_assert_str_eq(b.hash, h);
	ck_assert_str_eq(b.accepted_by, "alice");
	ck_assert_str_eq(b.reason, "release 7");
	ck_assert_ptr_nonnull(strstr(warnings, "moved to"));
	ck_assert_ptr_nonnull(strstr(warnings, "restored from"));
	store_baseline_done(&b);
	free(path);
	store_free(s);
}
END_TEST

START_TEST(state_change_whose_audit_line_was_lost_is_audited_on_next_lock)
{
	struct store *s = open_target("app");
	struct error err;
	char h[65], *audit, *path;
	json_t *a;

	record_model(s, 0, 1, h);
	ck_assert_int_eq(store_baseline_set(s, h, "baseline accept", "bob", "first", &err), 0);
	/* Simulate death between baseline.json and audit.log: drop the audit line. */
	ck_assert_int_ge(asprintf(&path, "%s/audit.log", store_dir(s)), 0);
	ck_assert_int_eq(truncate(path, 0), 0);
	ck_assert_int_eq(store_lock(s, &err), 0);
	store_unlock(s);
	ck_assert_int_eq(store_audit_load(s, &a, &err), 0);
	ck_assert_uint_eq(json_array_size(a), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 0), "who")), "bob");
	ck_assert(json_is_true(json_object_get(json_array_get(a, 0), "recovered")));
	json_decref(a);
	/* Only once. */
	ck_assert_int_eq(store_lock(s, &err), 0);
	store_unlock(s);
	audit = read_file(store_dir(s), "audit.log");
	ck_assert_uint_eq(count_lines(audit), 1);
	free(audit);
	free(path);
	store_free(s);
}
END_TEST

START_TEST(temp_files_of_dead_writers_are_removed_under_the_lock)
{
	struct store *s = open_target("app");
	struct error err;
	char *tmp;
	struct stat st;

	record_model(s, 0, 1, NULL);
	ck_assert_int_ge(asprintf(&tmp, "%s/snapshots/abc.json.tmp.Xy12Zq", store_dir(s)), 0);
	fclose(fopen(tmp, "w"));
	ck_assert_int_eq(store_lock(s, &err), 0);
	store_unlock(s);
	ck_assert_int_eq(stat(tmp, &st), -1);
	free(tmp);
	store_free(s);
}
END_TEST

/* ---------------------------------------------------------------- acks */

/* Drift baseline -> m, with the target's acks applied at fake_now. */
static struct diff *drift(struct store *s, struct model *base, struct model *m,
			  struct ack_set **ret_acks)
{
	struct diff *d;
	struct error err;

	ck_assert_int_eq(diff_models(base, m, &d), 0);
	ck_assert_msg(ack_load(s, ret_acks, &err) == 0, "%s", err.text);
	ack_apply(*ret_acks, d, fake_now);
	return d;
}

static const struct diff_change *change_on(const struct diff *d, const char *name)
{
	for (size_t i = 0; i < d->n_changes; i++) {
		const struct model_object *o = d->changes[i].after ? d->changes[i].after
								   : d->changes[i].before;
		if (strcmp(o->name, name) == 0)
			return &d->changes[i];
	}
	return NULL;
}

START_TEST(ack_then_further_change_is_drift_again)
{
	struct store *s = open_target("app");
	struct model *base = make_model(0, 0, 0), *m1 = make_model(0, 1, 1), *m2 = make_model(0, 2, 1);
	struct ack_set *acks;
	struct ack *a = NULL;
	struct diff *d;
	struct error err;
	char hb[65];

	record_at(s, 0, base, hb);
	ck_assert_int_eq(store_baseline_set(s, hb, "baseline create", "t", NULL, &err), 0);
	record_at(s, 1, m1, NULL);
	/* Nothing drifts under this name. */
	ck_assert_int_eq(ack_add(s, "public.nope*", "t", "r", 0, NULL, &err), -ENOENT);
	ck_assert_msg(ack_add(s, "public.t_idx", "carol", "hand-made index", 0, &a, &err) == 0, "%s",
		      err.text);
	ck_assert_uint_eq(a->n_objects, 1);
	ck_assert_str_eq(a->objects[0].label, "public.t_idx");
	ack_free(a);

	d = drift(s, base, m1, &acks);
	ck_assert_uint_eq(d->n_changes, 2);
	ck_assert(change_on(d, "t_idx")->acknowledged);
	ck_assert_str_eq(change_on(d, "t_idx")->ack_reason, "hand-made index");
	ck_assert(!change_on(d, "c1")->acknowledged);
	ck_assert_uint_eq(d->n_acknowledged, 1);
	ck_assert_uint_eq(d->by_severity[DIFF_INFO], 1); /* the column only */
	diff_free(d);
	ack_set_free(acks);

	/* The index changes again: drift, not acknowledged. */
	record_at(s, 2, m2, NULL);
	d = drift(s, base, m2, &acks);
	ck_assert(!change_on(d, "t_idx")->acknowledged);
	ck_assert_uint_eq(d->n_acknowledged, 0);
	diff_free(d);
	ack_set_free(acks);
	model_free(base);
	model_free(m1);
	model_free(m2);
	store_free(s);
}
END_TEST

START_TEST(ack_expires)
{
	struct store *s = open_target("app");
	struct model *base = make_model(0, 0, 0), *m1 = make_model(0, 1, 0);
	struct ack_set *acks;
	struct diff *d;
	struct error err;
	char hb[65];

	record_at(s, 0, base, hb);
	ck_assert_int_eq(store_baseline_set(s, hb, "baseline create", "t", NULL, &err), 0);
	record_at(s, 1, m1, NULL);
	ck_assert_int_eq(ack_add(s, "index:public.*", "t", "until the migration", fake_now - 1, NULL,
				 &err), -EINVAL); /* already past */
	ck_assert_msg(ack_add(s, "index:public.*", "t", "until the migration", fake_now + 100, NULL,
			      &err) == 0, "%s", err.text);
	fake_now += 99;
	d = drift(s, base, m1, &acks);
	ck_assert_uint_eq(d->n_acknowledged, 1);
	diff_free(d);
	ack_set_free(acks);
	fake_now += 1;
	d = drift(s, base, m1, &acks);
	ck_assert_uint_eq(d->n_acknowledged, 0);
	ck_assert_uint_eq(d->by_severity[DIFF_INFO], 1);
	diff_free(d);
	ack_set_free(acks);
	model_free(base);
	model_free(m1);
	store_free(s);
}
END_TEST

START_TEST(ack_kind_prefix_glob_remove_and_audit)
{
	struct store *s = open_target("app");
	struct model *base = make_model(0, 0, 0), *m1 = make_model(2, 1, 1);
	struct ack_set *acks;
	struct ack *a = NULL;
	struct error err;
	size_t removed = 0;
	char hb[65], id[9];
	json_t *audit;

	record_at(s, 0, base, hb);
	ck_assert_int_eq(store_baseline_set(s, hb, "baseline create", "t", NULL, &err), 0);
	record_at(s, 1, m1, NULL);
	/* "table:" restricts the glob to tables: t1 and t2, not t.c1 or t_idx. */
	ck_assert_msg(ack_add(s, "table:public.t*", "dave", "new tables", 0, &a, &err) == 0, "%s",
		      err.text);
	ck_assert_uint_eq(a->n_objects, 2);
	memcpy(id, a->id, 9);
	ack_free(a);
	ck_assert_int_eq(ack_load(s, &acks, &err), 0);
	ck_assert_uint_eq(acks->n, 1);
	ack_set_free(acks);
	ck_assert_int_eq(ack_remove(s, "nope", "dave", NULL, &removed, &err), -ENOENT);
	ck_assert_int_eq(ack_remove(s, id, "dave", "done", &removed, &err), 0);
	ck_assert_uint_eq(removed, 1);
	ck_assert_int_eq(ack_load(s, &acks, &err), 0);
	ck_assert_uint_eq(acks->n, 0);
	ack_set_free(acks);
	ck_assert_int_eq(store_audit_load(s, &audit, &err), 0);
	ck_assert_uint_eq(json_array_size(audit), 3); /* baseline, ack, ack remove */
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(audit, 1), "action")), "ack");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(audit, 2), "action")),
			 "ack remove");
	json_decref(audit);
	model_free(base);
	model_free(m1);
	store_free(s);
}
END_TEST

START_TEST(ack_of_an_added_table_covers_its_columns_as_they_were)
{
	struct store *s = open_target("app");
	struct model *base = make_model(0, 0, 0), *m1, *m2;
	struct ack_set *acks;
	struct diff *d;
	struct error err;
	char hb[65];

	/* base: t; m1: + table t9 (id); m2: t9 gets a second column. */
	m1 = make_model(0, 0, 0);
	model_free(m1);
	ck_assert_int_eq(model_new(&m1), 0);
	ck_assert_int_eq(model_new(&m2), 0);
	for (int v = 0; v < 2; v++) {
		struct model *m = v ? m2 : m1;

		model_begin(m, MODEL_SCHEMA, NULL, NULL, "public", NULL);
		model_end(m);
		model_begin(m, MODEL_TABLE, "public", NULL, "t", NULL);
		model_set_bool(m, "unlogged", false);
		model_end(m);
		model_begin(m, MODEL_COLUMN, "public", "t", "id", NULL);
		model_set_int(m, "position", 1);
		model_set_str(m, "type", "integer");
		model_set_bool(m, "not_null", true);
		model_end(m);
		model_begin(m, MODEL_TABLE, "public", NULL, "t9", NULL);
		model_set_bool(m, "unlogged", false);
		model_end(m);
		for (int c = 0; c <= v; c++) {
			model_begin(m, MODEL_COLUMN, "public", "t9", c ? "b" : "a", NULL);
			model_set_int(m, "position", c + 1);
			model_set_str(m, "type", "text");
			model_end(m);
		}
		ck_assert_int_eq(model_finish(m), 0);
		ck_assert_int_eq(snapshot_hash(m), 0);
	}
	record_at(s, 0, base, hb);
	ck_assert_int_eq(store_baseline_set(s, hb, "baseline create", "t", NULL, &err), 0);
	record_at(s, 1, m1, NULL);
	ck_assert_msg(ack_add(s, "public.t9", "t", "scratch table", 0, NULL, &err) == 0, "%s",
		      err.text);
	d = drift(s, base, m1, &acks);
	ck_assert_uint_eq(d->n_changes, 1); /* + table t9 (its column folded in) */
	ck_assert_uint_eq(d->n_acknowledged, 1);
	diff_free(d);
	ack_set_free(acks);
	d = drift(s, base, m2, &acks);
	ck_assert_uint_eq(d->n_changes, 1);
	ck_assert_uint_eq(d->n_acknowledged, 0); /* the table is not as it was acknowledged */
	diff_free(d);
	ack_set_free(acks);
	model_free(base);
	model_free(m1);
	model_free(m2);
	store_free(s);
}
END_TEST

START_TEST(acknowledged_changes_in_text_and_json)
{
	struct model *base = make_model(0, 0, 0), *m1 = make_model(0, 1, 0);
	struct diff *d;
	char *buf = NULL, *js;
	size_t len = 0;
	FILE *f;
	json_t *j;

	ck_assert_int_eq(diff_models(base, m1, &d), 0);
	diff_acknowledge(d, 0, "known");
	f = open_memstream(&buf, &len);
	ck_assert_int_eq(diff_write_text(d, f, false), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "[info] (acknowledged: known)\n"));
	ck_assert_ptr_nonnull(strstr(buf, "1 change: 0 breaking, 0 warning, 0 info, 1 acknowledged\n"));
	j = diff_to_json(d, "a", "b");
	js = json_dumps(j, JSON_COMPACT);
	ck_assert_ptr_nonnull(strstr(js, "\"acknowledged\":true,\"ack_reason\":\"known\""));
	ck_assert_ptr_nonnull(strstr(js, "\"info\":0,\"acknowledged\":1"));
	free(js);
	json_decref(j);
	free(buf);
	diff_free(d);
	model_free(base);
	model_free(m1);
}
END_TEST

START_TEST(targets_are_validated_and_listed)
{
	struct store_options o = { .state_dir = state_dir };
	struct store *s;
	struct error err;
	char **v;
	size_t n;

	ck_assert(!store_target_valid(""));
	ck_assert(!store_target_valid("../etc"));
	ck_assert(!store_target_valid("a/b"));
	ck_assert(!store_target_valid(".hidden"));
	ck_assert(store_target_valid("billing-prod.eu_1"));
	ck_assert_int_eq(store_open(&o, "a/b", true, &s, &err), -EINVAL);
	ck_assert_int_eq(store_open(&o, "missing", false, &s, &err), -ENOENT);
	store_free(open_target("b"));
	store_free(open_target("a"));
	ck_assert_int_eq(store_list_targets(&o, &v, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0], "a");
	ck_assert_str_eq(v[1], "b");
	store_strv_free(v);
}
END_TEST

START_TEST(append_line_takes_back_an_unfinished_record)
{
	char path[300], *buf;
	size_t len;
	struct error err;
	FILE *f;

	snprintf(path, sizeof(path), "%s/log", state_dir);
	ck_assert_int_eq(fileio_append_line(path, "one\n", 4, &err), 0);
	f = fopen(path, "a");
	fputs("tw", f);
	fclose(f);
	ck_assert_int_eq(fileio_append_line(path, "three\n", 6, &err), 0);
	ck_assert_int_eq(fileio_read_all(path, &buf, &len, &err), 0);
	ck_assert_str_eq(buf, "one\nthree\n");
	free(buf);
	ck_assert_int_eq(fileio_append_line(path, "two\nlines\n", 10, &err), -EINVAL);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, retention_exact_sets);
	tcase_add_test(tc, retention_after_every_run_keeps_baseline_and_latest);
	tcase_add_test(tc, history_trimmed_by_age_exactly_on_demand);
	tcase_add_test(tc, history_trim_after_a_run_waits_a_day_past_the_limit);
	tcase_add_test(tc, runs_are_content_addressed_with_summaries);
	tcase_add_test(tc, references_resolve);
	tcase_add_test(tc, times_parse);
	tcase_add_test(tc, unfinished_history_line_is_cut_by_the_next_writer);
	tcase_add_test(tc, corrupt_snapshot_is_moved_aside_not_deleted);
	tcase_add_test(tc, corrupt_baseline_is_moved_aside_and_restored_from_the_audit_log);
	tcase_add_test(tc, state_change_whose_audit_line_was_lost_is_audited_on_next_lock);
	tcase_add_test(tc, temp_files_of_dead_writers_are_removed_under_the_lock);
	tcase_add_test(tc, ack_then_further_change_is_drift_again);
	tcase_add_test(tc, ack_expires);
	tcase_add_test(tc, ack_kind_prefix_glob_remove_and_audit);
	tcase_add_test(tc, ack_of_an_added_table_covers_its_columns_as_they_were);
	tcase_add_test(tc, acknowledged_changes_in_text_and_json);
	tcase_add_test(tc, targets_are_validated_and_listed);
	tcase_add_test(tc, append_line_takes_back_an_unfinished_record);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
