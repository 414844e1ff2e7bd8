/* Unit tests for lib/alert_state.c: observation sequences -> exact alerts, and persistence. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert_state.h"
#include "fileio.h"

#define B "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
#define C1 "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1"
#define C2 "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2"

static const char *kind_word(enum alert_state_event_kind k)
{
	switch (k) {
	case ALERT_STATE_DRIFT:
		return "drift";
	case ALERT_STATE_REMINDER:
		return "reminder";
	case ALERT_STATE_DRIFT_RECOVERED:
		return "drift-recovered";
	case ALERT_STATE_ERROR:
		return "error";
	case ALERT_STATE_ERROR_RECOVERED:
		return "error-recovered";
	}
	return "?";
}

static const char *reason_word(enum alert_state_reason r)
{
	switch (r) {
	case ALERT_STATE_REASON_BACK_TO_BASELINE:
		return "(back)";
	case ALERT_STATE_REASON_BASELINE_ACCEPTED:
		return "(accepted)";
	case ALERT_STATE_REASON_BASELINE_REMOVED:
		return "(removed)";
	case ALERT_STATE_REASON_NONE:
		break;
	}
	return "";
}

/* The events as one line: "drift#1 reminder#1" ("" for none). */
static const char *describe(const struct alert_state_event *ev, size_t n)
{
	static char buf[256];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s%s#%lu", i ? " " : "",
				      kind_word(ev[i].kind), reason_word(ev[i].reason),
				      ev[i].incident);
	return buf;
}

static struct alert_state_options opts = { .repeat_interval_s = 3600, .error_threshold = 3 };
static struct alert_state_event last[ALERT_STATE_MAX_EVENTS];
static size_t n_last;

static const char *ok(struct alert_state *st, int64_t t, const char *base, const char *cur)
{
	int r = alert_state_observe_ok(st, &opts, base, cur, t, last, &n_last);

	ck_assert_int_ge(r, 0);
	return describe(last, n_last);
}

static const char *down(struct alert_state *st, int64_t t)
{
	int r = alert_state_observe_error(st, &opts, t, last, &n_last);

	ck_assert_int_eq(r, 1);
	return describe(last, n_last);
}

static struct alert_state *fresh(void)
{
	struct alert_state *st;

	ck_assert_int_eq(alert_state_new("billing", &st), 0);
	return st;
}

START_TEST(mismatch_alerts_have_their_own_kind_and_keys)
{
	struct alert_state *st = fresh();
	struct alert *a = NULL;

	st->mismatch = true; /* verify: expected hash as the "baseline" */
	ck_assert_str_eq(ok(st, 60, B, C1), "drift#1");
	ck_assert_int_eq(alert_state_alert_new(st, &last[0], "against db/migrations", &a), 0);
	ck_assert_int_eq(a->kind, ALERT_MISMATCH);
	ck_assert_str_eq(a->dedup_key, "schemadrift:billing:mismatch:1");
	ck_assert_str_eq(a->message, "against db/migrations");
	alert_free(a);
	ck_assert_str_eq(ok(st, 120, B, B), "drift-recovered(back)#1");
	ck_assert_int_eq(alert_state_alert_new(st, &last[0], NULL, &a), 0);
	ck_assert_int_eq(a->kind, ALERT_RECOVERED);
	ck_assert_str_eq(a->dedup_key, "schemadrift:billing:mismatch:1");
	ck_assert_ptr_nonnull(strstr(a->message, "matches the repository again"));
	alert_free(a);
	for (int64_t t = 200; t < 203; t++)
		down(st, t);
	ck_assert_str_eq(describe(last, n_last), "error#2");
	ck_assert_int_eq(alert_state_alert_new(st, &last[0], "x.sql:3: syntax error", &a), 0);
	ck_assert_str_eq(a->dedup_key, "schemadrift:billing:verify-error:2");
	alert_free(a);
	alert_state_free(st);
}
END_TEST

START_TEST(same_drift_alerts_once)
{
	struct alert_state *st = fresh();

	ck_assert_str_eq(ok(st, 0, B, B), "");
	ck_assert_str_eq(ok(st, 60, B, C1), "drift#1");
	ck_assert_str_eq(last[0].baseline, B);
	ck_assert_str_eq(last[0].current, C1);
	ck_assert_int_eq(last[0].since, 60);
	for (int t = 120; t < 3600; t += 60)
		ck_assert_str_eq(ok(st, t, B, C1), "");
	ck_assert(st->drift);
	ck_assert_int_eq(st->drift_last_sent, 60);
	alert_state_free(st);
}
END_TEST

START_TEST(reminders_follow_the_repeat_interval)
{
	struct alert_state *st = fresh();

	ck_assert_str_eq(ok(st, 1000, B, C1), "drift#1");
	ck_assert_str_eq(ok(st, 1000 + 3599, B, C1), "");
	ck_assert_str_eq(ok(st, 1000 + 3600, B, C1), "reminder#1");
	ck_assert_uint_eq(last[0].reminders, 1);
	ck_assert_int_eq(last[0].since, 1000);
	ck_assert_str_eq(ok(st, 1000 + 3700, B, C1), "");
	/* The interval counts from the last reminder, not the first alert. */
	ck_assert_str_eq(ok(st, 1000 + 7199, B, C1), "");
	ck_assert_str_eq(ok(st, 1000 + 7200, B, C1), "reminder#1");
	ck_assert_uint_eq(last[0].reminders, 2);
	/* Checks missed for a day still give one reminder, not 24. */
	ck_assert_str_eq(ok(st, 1000 + 7200 + 86400, B, C1), "reminder#1");
	ck_assert_str_eq(ok(st, 1000 + 7200 + 86401, B, C1), "");

	opts.repeat_interval_s = 0;
	ck_assert_str_eq(ok(st, 10000000, B, C1), "");
	opts.repeat_interval_s = 3600;
	alert_state_free(st);
}
END_TEST

START_TEST(recovery_back_to_baseline_then_new_incident)
{
	struct alert_state *st = fresh();

	ck_assert_str_eq(ok(st, 0, B, C1), "drift#1");
	ck_assert_str_eq(ok(st, 60, B, B), "drift-recovered(back)#1");
	ck_assert_str_eq(last[0].baseline, B);
	ck_assert_str_eq(last[0].current, B);
	ck_assert_int_eq(last[0].since, 0);
	ck_assert(!st->drift);
	ck_assert_str_eq(ok(st, 120, B, B), "");
	/* The same drift state again is a new incident and alerts again. */
	ck_assert_str_eq(ok(st, 180, B, C1), "drift#2");
	ck_assert_int_eq(last[0].since, 180);
	alert_state_free(st);
}
END_TEST

START_TEST(drifting_further_is_a_new_state_of_the_same_incident)
{
	struct alert_state *st = fresh();

	ck_assert_str_eq(ok(st, 0, B, C1), "drift#1");
	ck_assert_str_eq(ok(st, 1800, B, C2), "drift#1");
	ck_assert_str_eq(last[0].current, C2);
	ck_assert_int_eq(last[0].since, 0);
	ck_assert_str_eq(ok(st, 1900, B, C2), "");
	/* The reminder clock restarted with the new state. */
	ck_assert_str_eq(ok(st, 3600, B, C2), "");
	ck_assert_str_eq(ok(st, 1800 + 3600, B, C2), "reminder#1");
	/* Back to the first drifted state: still a state not alerted last. */
	ck_assert_str_eq(ok(st, 5500, B, C1), "drift#1");
	alert_state_free(st);
}
END_TEST

START_TEST(accepting_a_baseline_recovers)
{
	struct alert_state *st = fresh();

	ck_assert_str_eq(ok(st, 0, B, C1), "drift#1");
	ck_assert_str_eq(ok(st, 60, C1, C1), "drift-recovered(accepted)#1");
	ck_assert_str_eq(last[0].baseline, B);
	ck_assert_str_eq(ok(st, 120, C1, C1), "");

	/* Accepted while the schema moved on: the old incident ends, a new one opens. */
	ck_assert_str_eq(ok(st, 180, C1, C2), "drift#2");
	ck_assert_str_eq(ok(st, 240, B, C2), "drift-recovered(accepted)#2 drift#3");
	ck_assert_str_eq(last[0].baseline, C1);
	ck_assert_str_eq(last[1].baseline, B);
	ck_assert_str_eq(last[1].current, C2);

	/* No baseline at all: nothing to drift from. */
	ck_assert_str_eq(ok(st, 300, NULL, C2), "drift-recovered(removed)#3");
	ck_assert_str_eq(ok(st, 360, NULL, C1), "");
	alert_state_free(st);
}
END_TEST

START_TEST(errors_alert_once_per_outage_after_n_failures)
{
	struct alert_state *st = fresh();

	ck_assert_str_eq(ok(st, 0, B, B), "");
	ck_assert_str_eq(down(st, 60), "");
	ck_assert_str_eq(down(st, 120), "");
	ck_assert_str_eq(down(st, 180), "error#1");
	ck_assert_uint_eq(last[0].failures, 3);
	ck_assert_int_eq(last[0].since, 60);
	for (int t = 240; t < 100000; t += 600)
		ck_assert_str_eq(down(st, t), "");
	ck_assert_str_eq(ok(st, 100000, B, B), "error-recovered#1");
	ck_assert_int_eq(last[0].since, 60);
	ck_assert_uint_ge(last[0].failures, 100);
	ck_assert_str_eq(ok(st, 100060, B, B), "");

	/* Fewer failures than the threshold: no alert, and the count restarts. */
	ck_assert_str_eq(down(st, 100120), "");
	ck_assert_str_eq(down(st, 100180), "");
	ck_assert_str_eq(ok(st, 100240, B, B), "");
	ck_assert_str_eq(down(st, 100300), "");
	ck_assert_str_eq(down(st, 100360), "");
	ck_assert_str_eq(down(st, 100420), "error#2");
	ck_assert_int_eq(last[0].since, 100300);

	/* Threshold 0 means the first failure. */
	opts.error_threshold = 0;
	ck_assert_str_eq(ok(st, 100480, B, B), "error-recovered#2");
	ck_assert_str_eq(down(st, 100540), "error#3");
	opts.error_threshold = 3;
	alert_state_free(st);
}
END_TEST

START_TEST(one_observation_can_end_an_outage_and_a_drift_and_open_a_drift)
{
	struct alert_state *st = fresh();

	ck_assert_str_eq(ok(st, 0, B, C1), "drift#1");
	ck_assert_str_eq(down(st, 60), "");
	ck_assert_str_eq(down(st, 120), "");
	/* No reminders while the target cannot be checked. */
	ck_assert_str_eq(down(st, 7200), "error#2");
	ck_assert_str_eq(ok(st, 7260, C1, C2),
			 "error-recovered#2 drift-recovered(accepted)#1 drift#3");
	ck_assert_uint_eq(n_last, ALERT_STATE_MAX_EVENTS);
	/* An outage does not end the drift: same state after it, no new alert... */
	ck_assert_str_eq(down(st, 7300), "");
	ck_assert_str_eq(ok(st, 7360, C1, C2), "");
	/* ...but the reminder is due on time. */
	ck_assert_str_eq(ok(st, 7260 + 3600, C1, C2), "reminder#3");
	alert_state_free(st);
}
END_TEST

START_TEST(bad_hashes_are_refused_and_change_nothing)
{
	struct alert_state *st = fresh();
	char long_hash[70];

	ck_assert_str_eq(ok(st, 0, B, C1), "drift#1");
	memset(long_hash, 'a', 65);
	long_hash[65] = '\0';
	ck_assert_int_eq(alert_state_observe_ok(st, &opts, B, NULL, 1, last, &n_last), -EINVAL);
	ck_assert_int_eq(alert_state_observe_ok(st, &opts, B, "", 1, last, &n_last), -EINVAL);
	ck_assert_int_eq(alert_state_observe_ok(st, &opts, "b\"0", C1, 1, last, &n_last),
			 -EINVAL);
	ck_assert_int_eq(alert_state_observe_ok(st, &opts, B, long_hash, 1, last, &n_last),
			 -EINVAL);
	ck_assert(st->drift);
	ck_assert_str_eq(st->current, C1);
	ck_assert_str_eq(ok(st, 2, B, C1), "");
	/* Unchanged state reports "nothing to save". */
	ck_assert_int_eq(alert_state_observe_ok(st, &opts, B, C1, 3, last, &n_last), 0);
	ck_assert_int_eq(alert_state_observe_ok(st, &opts, B, B, 4, last, &n_last), 1);
	alert_state_free(st);
}
END_TEST

static char *tmpdir(void)
{
	char *d = strdup("/tmp/test_alert_state.XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

static void rmtree(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct alert_state *reload(struct alert_state *st, const char *dir)
{
	struct alert_state *again;
	struct error err;
	char *target = strdup(st->target);

	ck_assert_int_eq(alert_state_save(st, dir, &err), 0);
	alert_state_free(st);
	ck_assert_msg(alert_state_load(dir, target, &again, &err) == 0, "%s", err.text);
	free(target);
	return again;
}

START_TEST(state_survives_restarts)
{
	char *dir = tmpdir();
	struct alert_state *st = fresh();

	/* The same sequence as above, with a restart after every observation. */
	ck_assert_str_eq(ok(st, 1000, B, C1), "drift#1");
	st = reload(st, dir);
	ck_assert_str_eq(ok(st, 1060, B, C1), "");
	st = reload(st, dir);
	ck_assert_str_eq(ok(st, 1000 + 3600, B, C1), "reminder#1");
	st = reload(st, dir);
	ck_assert_str_eq(ok(st, 1000 + 3660, B, C1), "");
	st = reload(st, dir);
	ck_assert_str_eq(down(st, 5000), "");
	st = reload(st, dir);
	ck_assert_str_eq(down(st, 5060), "");
	st = reload(st, dir);
	ck_assert_str_eq(down(st, 5120), "error#2");
	ck_assert_int_eq(last[0].since, 5000);
	st = reload(st, dir);
	ck_assert_str_eq(down(st, 5180), "");
	st = reload(st, dir);
	ck_assert_str_eq(ok(st, 5240, B, B), "error-recovered#2 drift-recovered(back)#1");
	st = reload(st, dir);
	ck_assert_str_eq(ok(st, 5300, B, C2), "drift#3");
	st = reload(st, dir);
	ck_assert_uint_eq(st->incidents, 3);
	ck_assert_str_eq(st->baseline, B);
	ck_assert_str_eq(st->current, C2);
	ck_assert_int_eq(st->drift_since, 5300);
	alert_state_free(st);
	rmtree(dir);
	free(dir);
}
END_TEST

/* Another daemon takes the target over: the state goes through the coordination
 * database as alert_state_dump()'s text and goes on where it was. */
static struct alert_state *hand_over(struct alert_state *st)
{
	struct alert_state *again = NULL;
	struct error err;
	char *text = alert_state_dump(st);

	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(strchr(text, '\n'));
	ck_assert_msg(alert_state_parse("billing", text, strlen(text), "db", &again, &err) == 0,
		      "%s", err.text);
	alert_state_free(st);
	free(text);
	return again;
}

/* What the last notices said (the server's major, the recorder's state) goes
 * with the state, so a restart or a takeover does not say it again. */
START_TEST(notices_survive_a_hand_over_and_bad_ones_are_refused)
{
	struct alert_state *st = fresh(), *other = NULL;
	struct error err;
	char *text;

	ck_assert_int_eq(st->server_major, 0);
	ck_assert_int_eq(st->recorder, 0);
	text = alert_state_dump(st);
	ck_assert_ptr_null(strstr(text, "notices")); /* nothing known, nothing written */
	free(text);
	st->server_major = 18;
	st->recorder = 1;
	st = hand_over(st);
	ck_assert_int_eq(st->server_major, 18);
	ck_assert_int_eq(st->recorder, 1);
	static const char *const bad[] = {
		"\"notices\":1", "\"notices\":{\"server_major\":-1,\"recorder\":0}",
		"\"notices\":{\"server_major\":18,\"recorder\":\"on\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[512];
		int n = snprintf(buf, sizeof(buf), "{\"schemadrift_alert_state\":1,\"target\":"
				 "\"billing\",\"incidents\":0,\"failures\":{\"count\":0,\"since\":0,"
				 "\"alerted_incident\":null},%s}", bad[i]);
		ck_assert_int_eq(alert_state_parse("billing", buf, (size_t)n, "f.json", &other, &err),
				 -EBADMSG);
		ck_assert_ptr_nonnull(strstr(err.text, "bad \"notices\""));
	}
	alert_state_free(st);
}
END_TEST

START_TEST(state_handed_over_as_text_goes_on)
{
	struct alert_state *st = fresh(), *other = NULL;
	struct error err;
	char *text;

	ck_assert_str_eq(ok(st, 1000, B, C1), "drift#1");
	st = hand_over(st);
	/* The same drift: not alerted again by the new holder. */
	ck_assert_str_eq(ok(st, 1060, B, C1), "");
	/* The drift moving on alerts once, under the incident (and dedup key) the old
	 * holder opened. */
	ck_assert_str_eq(ok(st, 1120, B, C2), "drift#1");
	st = hand_over(st);
	ck_assert_str_eq(ok(st, 1180, B, C2), "");
	st = hand_over(st);
	ck_assert_str_eq(down(st, 2000), "");
	st = hand_over(st);
	ck_assert_str_eq(down(st, 2060), "");
	st = hand_over(st);
	ck_assert_str_eq(down(st, 2120), "error#2");
	st = hand_over(st);
	ck_assert_str_eq(ok(st, 2180, B, C2), "error-recovered#2");
	/* Text of another target, or no state at all, is refused with its origin. */
	text = alert_state_dump(st);
	ck_assert_int_eq(alert_state_parse("other", text, strlen(text), "the database", &other,
					   &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.text, "the database"));
	ck_assert_int_eq(alert_state_parse("billing", "{}", 2, "the database", &other, &err),
			 -EBADMSG);
	ck_assert_ptr_null(other);
	free(text);
	alert_state_free(st);
}
END_TEST

START_TEST(load_without_a_file_is_fresh_and_bad_files_are_errors)
{
	char *dir = tmpdir(), *path;
	struct alert_state *st;
	struct error err;
	FILE *f;

	ck_assert_int_eq(alert_state_load(dir, "billing", &st, &err), 0);
	ck_assert(!st->drift && !st->error && st->failures == 0 && st->incidents == 0);
	alert_state_free(st);

	path = alert_state_path(dir, "billing");
	f = fopen(path, "w");
	fputs("{\"schemadrift_alert_state\": 1, \"target\": \"billing\", \"incidents\": ", f);
	fclose(f);
	ck_assert_int_eq(alert_state_load(dir, "billing", &st, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.text, path));
	ck_assert_ptr_nonnull(strstr(err.text, "line 1"));

	f = fopen(path, "w");
	fputs("{\"schemadrift_alert_state\": 1, \"target\": \"other\", \"incidents\": 0, "
	      "\"failures\": {\"count\": 0, \"since\": 0, \"alerted_incident\": null}}",
	      f);
	fclose(f);
	ck_assert_int_eq(alert_state_load(dir, "billing", &st, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.text, "another target"));

	f = fopen(path, "w");
	fputs("{\"schemadrift_alert_state\": 1, \"target\": \"billing\", \"incidents\": 1, "
	      "\"failures\": {\"count\": 0, \"since\": 0, \"alerted_incident\": null}, "
	      "\"drift\": {\"incident\": 1, \"baseline\": \"x y\", \"current\": \"ab\", "
	      "\"since\": 0, \"last_sent\": 0, \"reminders\": 0}}",
	      f);
	fclose(f);
	ck_assert_int_eq(alert_state_load(dir, "billing", &st, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.text, "\"drift\""));
	free(path);
	rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(file_names_are_safe_and_distinct)
{
	char *dir = tmpdir();
	static const char *const names[] = { "../escape", "a/b", "a%2Fb", ".hidden", "a b",
					     "caf\xc3\xa9", "plain-name_1.x" };
	struct error err;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct alert_state *st;
		char *path = alert_state_path(dir, names[i]);
		const char *base = path + strlen(dir) + 1;

		ck_assert_ptr_null(strchr(base, '/'));
		ck_assert(base[0] != '.');
		ck_assert_int_eq(alert_state_new(names[i], &st), 0);
		ck_assert_int_eq(alert_state_observe_error(st, &opts, (int64_t)i, last, &n_last),
				 1);
		ck_assert_int_eq(alert_state_save(st, dir, &err), 0);
		alert_state_free(st);
		free(path);
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct alert_state *st;

		ck_assert_msg(alert_state_load(dir, names[i], &st, &err) == 0, "%s", err.text);
		ck_assert_int_eq(st->failing_since, (int64_t)i);
		alert_state_free(st);
	}
	/* A very long name still makes a valid file name. */
	{
		char longname[1000];
		struct alert_state *st;
		char *path;

		memset(longname, 'x', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		path = alert_state_path(dir, longname);
		ck_assert_uint_lt(strlen(strrchr(path, '/') + 1), 256);
		ck_assert_int_eq(alert_state_new(longname, &st), 0);
		ck_assert_int_eq(alert_state_save(st, dir, &err), 0);
		alert_state_free(st);
		ck_assert_int_eq(alert_state_load(dir, longname, &st, &err), 0);
		alert_state_free(st);
		free(path);
	}
	rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(events_become_alerts_with_one_dedup_key_per_incident)
{
	struct alert_state *st = fresh();
	struct alert *a;

	ck_assert_str_eq(ok(st, 1714564800, B, C1), "drift#1");
	ck_assert_int_eq(alert_state_alert_new(st, &last[0], NULL, &a), 0);
	ck_assert_int_eq(a->kind, ALERT_DRIFT);
	ck_assert_str_eq(a->target, "billing");
	ck_assert_str_eq(a->dedup_key, "schemadrift:billing:drift:1");
	ck_assert_str_eq(a->from_hash, B);
	ck_assert_str_eq(a->to_hash, C1);
	ck_assert_ptr_nonnull(a->id);
	alert_free(a);

	ck_assert_str_eq(ok(st, 1714564800 + 3600, B, C1), "reminder#1");
	ck_assert_int_eq(alert_state_alert_new(st, &last[0], NULL, &a), 0);
	ck_assert_int_eq(a->kind, ALERT_DRIFT);
	ck_assert_str_eq(a->dedup_key, "schemadrift:billing:drift:1");
	ck_assert_str_eq(a->message, "reminder 1: drift unresolved since 2024-05-01T12:00:00Z");
	alert_free(a);

	ck_assert_str_eq(ok(st, 1714564800 + 4000, C1, C1), "drift-recovered(accepted)#1");
	ck_assert_int_eq(alert_state_alert_new(st, &last[0], NULL, &a), 0);
	ck_assert_int_eq(a->kind, ALERT_RECOVERED);
	ck_assert_str_eq(a->dedup_key, "schemadrift:billing:drift:1");
	ck_assert_ptr_nonnull(strstr(a->message, "a new baseline was accepted"));
	ck_assert_int_eq(a->severity, DIFF_INFO);
	alert_free(a);

	ck_assert_str_eq(down(st, 1714600000), "");
	ck_assert_str_eq(down(st, 1714600060), "");
	ck_assert_str_eq(down(st, 1714600120), "error#2");
	ck_assert_int_eq(alert_state_alert_new(st, &last[0], "connection refused\r\nX: y", &a), 0);
	ck_assert_int_eq(a->kind, ALERT_ERROR);
	ck_assert_int_eq(a->severity, DIFF_BREAKING);
	ck_assert_str_eq(a->dedup_key, "schemadrift:billing:error:2");
	ck_assert_ptr_null(a->from_hash);
	ck_assert_ptr_nonnull(strstr(a->message, "connection refused"));
	ck_assert_ptr_nonnull(strstr(a->message, "3 consecutive failed checks"));
	ck_assert_ptr_null(strchr(a->message, '\r')); /* control characters are escaped */
	alert_free(a);

	ck_assert_str_eq(ok(st, 1714600180, C1, C1), "error-recovered#2");
	ck_assert_int_eq(alert_state_alert_new(st, &last[0], NULL, &a), 0);
	ck_assert_int_eq(a->kind, ALERT_RECOVERED);
	ck_assert_str_eq(a->dedup_key, "schemadrift:billing:error:2");
	alert_free(a);
	alert_state_free(st);
}
END_TEST

/* Check findings through their own state: kind check, ":check:N" keys, finding messages. */
START_TEST(check_findings_alert_under_their_own_keys)
{
	struct alert_state *st = NULL;
	struct alert *a = NULL;

	ck_assert_int_eq(alert_state_new("app", &st), 0);
	ck_assert_str_eq(ok(st, 100, "none", C1), "drift#1");
	ck_assert_int_eq(alert_state_check_alert_new(st, &last[0], "2 check findings (2 warning)", &a), 0);
	ck_assert_int_eq(a->kind, ALERT_CHECK);
	ck_assert_str_eq(a->dedup_key, "schemadrift:app:check:1");
	ck_assert_str_eq(a->message, "2 check findings (2 warning)");
	ck_assert_ptr_null(a->from_hash);
	alert_free(a);
	/* The same set: nothing; another set: the same incident again. */
	ck_assert_str_eq(ok(st, 200, "none", C1), "");
	ck_assert_str_eq(ok(st, 300, "none", C2), "drift#1");
	/* None left: recovered, same key. */
	ck_assert_str_eq(ok(st, 400, "none", "none"), "drift-recovered(back)#1");
	ck_assert_int_eq(alert_state_check_alert_new(st, &last[0], NULL, &a), 0);
	ck_assert_int_eq(a->kind, ALERT_RECOVERED);
	ck_assert_str_eq(a->dedup_key, "schemadrift:app:check:1");
	ck_assert_ptr_nonnull(strstr(a->message, "check findings resolved"));
	alert_free(a);
	/* A check run that cannot run: its own outage key. */
	down(st, 500);
	down(st, 600);
	ck_assert_str_eq(down(st, 700), "error#2");
	ck_assert_int_eq(alert_state_check_alert_new(st, &last[0], "no connection", &a), 0);
	ck_assert_int_eq(a->kind, ALERT_ERROR);
	ck_assert_str_eq(a->dedup_key, "schemadrift:app:check-error:2");
	ck_assert_ptr_nonnull(strstr(a->message, "checks cannot run: no connection"));
	alert_free(a);
	alert_state_free(st);
}
END_TEST

static Suite *alert_state_suite(void)
{
	Suite *s = suite_create("alert_state");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, same_drift_alerts_once);
	tcase_add_test(tc, mismatch_alerts_have_their_own_kind_and_keys);
	tcase_add_test(tc, reminders_follow_the_repeat_interval);
	tcase_add_test(tc, recovery_back_to_baseline_then_new_incident);
	tcase_add_test(tc, drifting_further_is_a_new_state_of_the_same_incident);
	tcase_add_test(tc, accepting_a_baseline_recovers);
	tcase_add_test(tc, errors_alert_once_per_outage_after_n_failures);
	tcase_add_test(tc, one_observation_can_end_an_outage_and_a_drift_and_open_a_drift);
	tcase_add_test(tc, bad_hashes_are_refused_and_change_nothing);
	tcase_add_test(tc, state_survives_restarts);
	tcase_add_test(tc, load_without_a_file_is_fresh_and_bad_files_are_errors);
	tcase_add_test(tc, file_names_are_safe_and_distinct);
	tcase_add_test(tc, state_handed_over_as_text_goes_on);
	tcase_add_test(tc, notices_survive_a_hand_over_and_bad_ones_are_refused);
	tcase_add_test(tc, events_become_alerts_with_one_dedup_key_per_incident);
	tcase_add_test(tc, check_findings_alert_under_their_own_keys);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(alert_state_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
