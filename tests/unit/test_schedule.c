/* Unit tests for lib/schedule.c: parsing, month ends, leap days, DST, jitter, catch-up. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schedule.h"

/* "2025-03-30 01:00Z", "2025-03-30 03:00+0200", optional ":SS" -> time_t. */
static time_t at(const char *text)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, s = 0, n = 0, off = 0;
	const char *p;

	if (sscanf(text, "%d-%d-%d %d:%d%n", &y, &mo, &d, &h, &mi, &n) != 5)
		ck_abort_msg("bad test time '%s'", text);
	p = text + n;
	if (*p == ':') {
		s = atoi(p + 1);
		p += 3;
	}
	if (*p == '+' || *p == '-') {
		int hhmm = atoi(p + 1);

		off = (hhmm / 100 * 3600 + hhmm % 100 * 60) * (*p == '-' ? -1 : 1);
	} else if (*p != 'Z') {
		ck_abort_msg("test time '%s' needs Z or an offset", text);
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm) - off;
}

/* t as local time in s's zone: "2025-03-30 03:00+0200" (":SS" when not 0). */
static void local(const struct schedule *s, time_t t, char *buf, size_t size)
{
	long off = schedule_utc_offset(s, t);
	time_t l = t + off;
	struct tm tm;
	char sec[8] = "";

	gmtime_r(&l, &tm);
	if (tm.tm_sec)
		snprintf(sec, sizeof(sec), ":%02d", tm.tm_sec);
	snprintf(buf, size, "%04d-%02d-%02d %02d:%02d%s%c%02ld%02ld", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, sec, off < 0 ? '-' : '+',
		 labs(off) / 3600, labs(off) % 3600 / 60);
}

static struct schedule *mk(const char *expr, const char *zone)
{
	struct schedule *s = NULL;
	struct error err = {0};

	if (schedule_parse(expr, &s, &err) < 0)
		ck_abort_msg("'%s': %s", expr, err.text);
	if (zone && schedule_set_zone(s, zone, &err) < 0)
		ck_abort_msg("'%s': %s", zone, err.text);
	return s;
}

/* The next n fire times after `from`, each fed back as the next `after`, as local times. */
static const char *seq(const char *expr, const char *zone, const char *from, int n)
{
	static char out[2048];
	struct schedule *s = mk(expr, zone);
	time_t t = at(from);
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		char buf[64];
		int r = schedule_next(s, t, &t);

		ck_assert_msg(r == 0, "'%s' next: %d", expr, r);
		local(s, t, buf, sizeof(buf));
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? ", " : "", buf);
	}
	schedule_free(s);
	return out;
}

static const char *parse_error(const char *expr)
{
	static struct error err;
	struct schedule *s = NULL;
	int r;

	error_clear(&err);
	r = schedule_parse(expr, &s, &err);
	ck_assert_msg(r == -EINVAL, "'%s' parsed (r=%d)", expr, r);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(err.code, -EINVAL);
	return err.text;
}

START_TEST(valid_expressions_parse)
{
	static const struct {
		const char *text;
		long interval;
	} ok[] = {
		{"* * * * *", 0},
		{"*/15 * * * *", 0},
		{"1-30/5 0-23/2 1,15 JAN-mar,Jul mon-FRI", 0},
		{"0 0 * * 7", 0},
		{"0 0 29 2 *", 0},
		{"0 0 30 2 1", 0}, /* Feb 30 never, but OR Mondays */
		{"5/20 * * * *", 0},
		{"\t0  3 * *\tsun ", 0},
		{"@hourly", 0},
		{"@DAILY", 0},
		{"@midnight", 0},
		{"@weekly", 0},
		{"@monthly", 0},
		{"@yearly", 0},
		{"@annually", 0},
		{"every 30s", 30},
		{"every 15m", 900},
		{"every 2h", 7200},
		{"every 1d", 86400},
		{"every 1h30m", 5400},
		{"every 1h 30m", 5400},
		{"EVERY 1d2h3m4s", 93784},
		{"every 366d", 366 * 86400},
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct schedule *s = mk(ok[i].text, NULL);

		ck_assert_int_eq(schedule_interval(s), ok[i].interval);
		ck_assert_str_eq(schedule_zone(s), "UTC");
		schedule_free(s);
	}
	struct schedule *s = mk("  0 3 * * *\n", NULL);

	ck_assert_str_eq(schedule_text(s), "0 3 * * *");
	schedule_free(s);
}
END_TEST

START_TEST(invalid_expressions_say_what_and_where)
{
	static const struct {
		const char *text, *error;
	} bad[] = {
		{"", "empty schedule"},
		{"  \t ", "empty schedule"},
		{"61 * * * *", "minute field '61': out of range 0-59"},
		{"5,61 * * * *", "minute field '61': out of range 0-59"},
		{"0-61 * * * *", "minute field '0-61': 61 is out of range 0-59"},
		{"0 24 * * *", "hour field '24': out of range 0-23"},
		{"0 0 0 * *", "day-of-month field '0': out of range 1-31"},
		{"0 0 * 13 *", "month field '13': out of range 1-12"},
		{"0 0 * * 8", "day-of-week field '8': out of range 0-7"},
		{"0 0 * JANX *", "month field 'JANX': unknown month name 'JANX'"},
		{"0 0 * JAN-FEBX *", "month field 'JAN-FEBX': unknown month name 'FEBX'"},
		{"0 0 * * MONDAY", "day-of-week field 'MONDAY': unknown day-of-week name 'MONDAY'"},
		{"0 0 * * 1,FUN", "day-of-week field 'FUN': unknown day-of-week name 'FUN'"},
		{"abc * * * *", "minute field 'abc': expected a number 0-59, not 'abc'"},
		{"0 0 MAR * *", "day-of-month field 'MAR': expected a number 1-31, not 'MAR'"},
		{"5x * * * *", "minute field '5x': unexpected 'x'"},
		{"-5 * * * *", "minute field '-5': unexpected '-'"},
		{"0 0 5- * *", "day-of-month field '5-': missing value at the end"},
		{"*/0 * * * *", "minute field '*/0': step must be a number 1-59"},
		{"0 */x * * *", "hour field '*/x': step must be a number 1-23"},
		{"0 */24 * * *", "hour field '*/24': step must be a number 1-23"},
		{"0 17-9 * * *",
		 "hour field '17-9': range start is after its end (ranges do not wrap around; "
		 "use a list)"},
		{"0 0 * * FRI-MON",
		 "day-of-week field 'FRI-MON': range start is after its end (ranges do not wrap "
		 "around; use a list)"},
		{"1,,2 * * * *", "minute field '1,,2': empty list item"},
		{"1, * * * *", "minute field '1,': empty list item"},
		{"** * * * *", "minute field '**': unexpected '*'"},
		{"0 0 * *",
		 "expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
		{"0 0 0 * * * *",
		 "expected 5 fields (minute hour day-of-month month day-of-week), got 7"},
		{"0 0 30 2 *",
		 "day-of-month field '30' never occurs in month field '2': the schedule would "
		 "never fire"},
		{"0 0 31 APR,jun,9,11 *",
		 "day-of-month field '31' never occurs in month field 'APR,jun,9,11': the schedule "
		 "would never fire"},
		{"@reboot",
		 "unknown schedule '@reboot' (known: @hourly, @daily, @midnight, @weekly, "
		 "@monthly, @yearly, @annually)"},
		{"every", "interval 'every': missing duration (like 'every 15m' or 'every 1h30m')"},
		{"every 15", "interval '15': missing unit after 15 (s, m, h or d)"},
		{"every 15x", "interval '15x': unknown unit 'x' (s, m, h or d)"},
		{"every m", "interval 'm': expected a number at 'm'"},
		{"every 0m", "interval '0m': must be at least 1 second"},
		{"every 30m1h",
		 "interval '30m1h': units must go from largest to smallest, each once "
		 "(d, h, m, s)"},
		{"every 1h1h",
		 "interval '1h1h': units must go from largest to smallest, each once (d, h, m, s)"},
		{"every 367d", "interval '367d': longer than 366 days"},
		{"every 99999999999999999999s",
		 "interval '99999999999999999999s': longer than 366 days"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_str_eq(parse_error(bad[i].text), bad[i].error);
}
END_TEST

/* The config loader owns FILE:LINE and the key; the message composes. */
START_TEST(errors_take_the_callers_file_line_prefix)
{
	struct schedule *s = NULL;
	struct error err = {0};

	ck_assert_int_eq(schedule_parse("0 25 * * *", &s, &err), -EINVAL);
	error_prefix(&err, "%s:%d: schedule", "/etc/schemadrift.conf", 12);
	ck_assert_str_eq(err.text,
			 "/etc/schemadrift.conf:12: schedule: hour field '25': out of range 0-23");
}
END_TEST

START_TEST(zones_are_validated)
{
	struct schedule *s = mk("0 3 * * *", NULL);
	struct error err = {0};

	ck_assert_int_eq(schedule_set_zone(s, "Mars/Olympus", &err), -ENOENT);
	ck_assert_str_eq(err.text, "time zone 'Mars/Olympus': unknown "
				   "(no file /usr/share/zoneinfo/Mars/Olympus)");
	ck_assert_int_eq(schedule_set_zone(s, "../../etc/passwd", &err), -EINVAL);
	ck_assert_str_eq(err.text, "time zone '../../etc/passwd': '.', '..' and empty path "
				   "components are not allowed");
	ck_assert_int_eq(schedule_set_zone(s, "Europe/../../etc/passwd", &err), -EINVAL);
	ck_assert_int_eq(schedule_set_zone(s, "Europe//Berlin", &err), -EINVAL);
	ck_assert_int_eq(schedule_set_zone(s, "/etc/localtime", &err), -EINVAL);
	ck_assert_str_eq(err.text, "time zone '/etc/localtime': must be a name relative to "
				   "/usr/share/zoneinfo, like Europe/Berlin");
	ck_assert_int_eq(schedule_set_zone(s, "Europe/Berlin ", &err), -EINVAL);
	ck_assert_str_eq(err.text, "time zone 'Europe/Berlin ': unexpected character ' ' (names "
				   "look like Europe/Berlin)");
	ck_assert_int_eq(schedule_set_zone(s, "", &err), -EINVAL);
	ck_assert_int_eq(schedule_set_zone(s, "Europe", &err), -EINVAL);
	ck_assert_str_eq(err.text,
			 "time zone 'Europe': /usr/share/zoneinfo/Europe is not a zone file");
	ck_assert_int_eq(schedule_set_zone(s, "zone.tab", &err), -EBADMSG);
	ck_assert_str_eq(err.text,
			 "time zone 'zone.tab': /usr/share/zoneinfo/zone.tab is not a TZif file");
	ck_assert_int_eq(schedule_set_zone(s, "right/UTC", &err), -EBADMSG);
	ck_assert_str_eq(err.text, "time zone 'right/UTC': has leap seconds, which Unix time does "
				   "not count (use the zone without the right/ prefix)");
	/* A failed change keeps the zone. */
	ck_assert_str_eq(schedule_zone(s), "UTC");
	ck_assert_int_eq(schedule_set_zone(s, "Europe/Berlin", &err), 0);
	ck_assert_str_eq(schedule_zone(s), "Europe/Berlin");
	ck_assert_int_eq(schedule_set_zone(s, "Mars/Olympus", &err), -ENOENT);
	ck_assert_str_eq(schedule_zone(s), "Europe/Berlin");
	/* A symlinked zone (Debian: GMT -> Etc/GMT) works. */
	ck_assert_int_eq(schedule_zone_check("GMT", &err), 0);
	ck_assert_int_eq(schedule_zone_check("UTC", NULL), 0);
	ck_assert_int_eq(schedule_zone_check("Asia/Tokyo", NULL), 0);
	ck_assert_int_eq(schedule_zone_check("Asia/Tokio", NULL), -ENOENT);
	schedule_free(s);
}
END_TEST

static long glibc_offset(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	return tm.tm_gmtoff;
}

/*
 * Our TZif reader against glibc's (TZ + localtime_r is fine here: this test
 * is single-threaded), 1900-2200, through the end of the transition tables
 * (2037) into the footer rules, for zones with unusual rules: southern
 * hemisphere, negative DST (Dublin), 30-minute DST (Lord Howe), rule times
 * of -1 h (Nuuk) and 26 h (Jerusalem), a skipped day (Apia), a fixed offset
 * with a long table (Casablanca), half-hour offsets.  Daily samples, and
 * every change found is pinned to its exact second by bisection.
 */
START_TEST(zone_offsets_agree_with_the_c_library)
{
	static const char *const zones[] = {
		"UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Europe/Dublin",
		"Australia/Lord_Howe", "America/Nuuk", "Asia/Jerusalem", "Pacific/Apia",
		"Africa/Casablanca", "Asia/Kolkata", "America/St_Johns", "America/Sao_Paulo",
		"Antarctica/Troll", "Pacific/Chatham", "Europe/London",
	};
	const time_t from = at("1900-01-01 00:00Z"), to = at("2200-01-01 00:00Z");
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		struct schedule *s = mk("@daily", zones[i]);
		long prev_off, changes = 0, changes_after_2037 = 0;
		time_t prev = from;

		setenv("TZ", zones[i], 1);
		tzset();
		prev_off = glibc_offset(from);
		for (time_t t = from; t < to; prev = t, t += 86400 + 3607) {
			long off = glibc_offset(t);

			/* Plain ifs in hot loops: every ck_assert writes to Check's pipe. */
			if (off != schedule_utc_offset(s, t))
				ck_abort_msg("%s at %lld: glibc %ld, ours %ld", zones[i],
					     (long long)t, off, schedule_utc_offset(s, t));
			if (off != prev_off) {
				/* offset(lo) == prev_off, offset(hi) != prev_off */
				time_t lo = prev, hi = t;
				long ours_lo, ours_hi;

				while (hi - lo > 1) {
					time_t mid = lo + (hi - lo) / 2;

					if (glibc_offset(mid) == prev_off)
						lo = mid;
					else
						hi = mid;
				}
				ours_lo = schedule_utc_offset(s, lo);
				ours_hi = schedule_utc_offset(s, hi);
				ck_assert_msg(ours_lo == prev_off && ours_hi == glibc_offset(hi),
					      "%s: change at %lld: glibc %ld -> %ld, "
					      "ours %ld -> %ld", zones[i], (long long)hi, prev_off,
					      glibc_offset(hi), ours_lo, ours_hi);
				changes++;
				if (hi > at("2038-01-19 03:14Z"))
					changes_after_2037++;
			}
			prev_off = off;
		}
		/* The DST zones were really exercised beyond their tables. */
		if (strcmp(zones[i], "Europe/Berlin") == 0 ||
		    strcmp(zones[i], "Europe/Dublin") == 0 ||
		    strcmp(zones[i], "Australia/Lord_Howe") == 0)
			ck_assert_int_gt(changes_after_2037, 300);
		ck_assert(changes > 0 || strcmp(zones[i], "UTC") == 0);
		schedule_free(s);
	}
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	free(old);
	tzset();
}
END_TEST

START_TEST(month_ends)
{
	/* The 31st only in months that have one. */
	ck_assert_str_eq(seq("0 12 31 * *", "UTC", "2025-01-01 00:00Z", 7),
			 "2025-01-31 12:00+0000, 2025-03-31 12:00+0000, 2025-05-31 12:00+0000, "
			 "2025-07-31 12:00+0000, 2025-08-31 12:00+0000, 2025-10-31 12:00+0000, "
			 "2025-12-31 12:00+0000");
	/* The 30th skips February, in a leap year too. */
	ck_assert_str_eq(seq("0 0 30 * *", "UTC", "2024-01-30 00:00Z", 3),
			 "2024-03-30 00:00+0000, 2024-04-30 00:00+0000, 2024-05-30 00:00+0000");
	/* Last minute of the year -> the next year. */
	ck_assert_str_eq(seq("59 23 31 12 *", "UTC", "2025-12-31 23:59Z", 2),
			 "2026-12-31 23:59+0000, 2027-12-31 23:59+0000");
	/* Strictly after: a fire exactly at `after` is not returned again, and
	 * seconds past the minute round up. */
	ck_assert_str_eq(seq("* * * * *", "UTC", "2025-06-30 23:59:30Z", 2),
			 "2025-07-01 00:00+0000, 2025-07-01 00:01+0000");
	ck_assert_str_eq(seq("0 0 1 * *", "Europe/Berlin", "2025-02-28 22:00Z", 2),
			 "2025-03-01 00:00+0100, 2025-04-01 00:00+0200");
}
END_TEST

START_TEST(leap_days)
{
	ck_assert_str_eq(seq("0 0 29 2 *", "UTC", "2024-02-29 00:00Z", 2),
			 "2028-02-29 00:00+0000, 2032-02-29 00:00+0000");
	/* 2100 is not a leap year: eight years from 2096 to 2104. */
	ck_assert_str_eq(seq("0 0 29 2 *", "UTC", "2096-03-01 00:00Z", 1), "2104-02-29 00:00+0000");
	/* 2400 is. */
	ck_assert_str_eq(seq("30 6 29 FEB *", "America/New_York", "2396-03-01 00:00Z", 1),
			 "2400-02-29 06:30-0500");
	/* Feb 29 AND Sunday (a '*' day-of-week field ANDs, as in cron): up to 40 years apart. */
	ck_assert_str_eq(seq("0 0 29 2 */7", "UTC", "2001-01-01 00:00Z", 5),
			 "2004-02-29 00:00+0000, 2032-02-29 00:00+0000, 2060-02-29 00:00+0000, "
			 "2088-02-29 00:00+0000, 2128-02-29 00:00+0000");
}
END_TEST

/*
 * Europe/Berlin 2025: 30 March 02:00 CET -> 03:00 CEST (01:00Z);
 * 26 October 03:00 CEST -> 02:00 CET (01:00Z), 02:00-02:59 occurs twice.
 */
START_TEST(dst_europe_berlin)
{
	/* 02:30 does not exist on 30 March: once, at the end of the gap. */
	ck_assert_str_eq(seq("30 2 * * *", "Europe/Berlin", "2025-03-28 12:00Z", 3),
			 "2025-03-29 02:30+0100, 2025-03-30 03:00+0200, 2025-03-31 02:30+0200");
	/* Several nonexistent times collapse into one fire. */
	ck_assert_str_eq(seq("*/20 2 * * *", "Europe/Berlin", "2025-03-29 12:00Z", 3),
			 "2025-03-30 03:00+0200, 2025-03-31 02:00+0200, 2025-03-31 02:20+0200");
	/* 02:30 occurs twice on 26 October: only the first (CEST) fires. */
	ck_assert_str_eq(seq("30 2 * * *", "Europe/Berlin", "2025-10-25 12:00Z", 2),
			 "2025-10-26 02:30+0200, 2025-10-27 02:30+0100");
	ck_assert_str_eq(seq("*/20 2 * * *", "Europe/Berlin", "2025-10-25 12:00Z", 4),
			 "2025-10-26 02:00+0200, 2025-10-26 02:20+0200, 2025-10-26 02:40+0200, "
			 "2025-10-27 02:00+0100");
	/* Asked during the second pass, the repeated 02:30 is not due again. */
	ck_assert_str_eq(seq("30 2 * * *", "Europe/Berlin", "2025-10-26 01:10Z", 1),
			 "2025-10-27 02:30+0100");
	/* Hourly: every real hour across the gap (02:00 is 03:00 CEST, once). */
	ck_assert_str_eq(seq("0 * * * *", "Europe/Berlin", "2025-03-29 23:30Z", 4),
			 "2025-03-30 01:00+0100, 2025-03-30 03:00+0200, 2025-03-30 04:00+0200, "
			 "2025-03-30 05:00+0200");
	/* Hourly at fall back: 02:00 CEST fires, the repeated 02:00 CET does not. */
	ck_assert_str_eq(seq("0 * * * *", "Europe/Berlin", "2025-10-25 23:30Z", 3),
			 "2025-10-26 02:00+0200, 2025-10-26 03:00+0100, 2025-10-26 04:00+0100");
	ck_assert_int_eq(at("2025-10-26 02:00+0200"), at("2025-10-26 00:00Z"));
	ck_assert_int_eq(at("2025-10-26 03:00+0100"), at("2025-10-26 02:00Z"));
	/* Intervals ignore the zone: every real hour. */
	ck_assert_str_eq(seq("every 1h", "Europe/Berlin", "2025-10-25 23:30Z", 4),
			 "2025-10-26 02:00+0200, 2025-10-26 02:00+0100, 2025-10-26 03:00+0100, "
			 "2025-10-26 04:00+0100");
	/* After 2037 the zone file's rule takes over from its table. */
	ck_assert_str_eq(seq("30 2 * * *", "Europe/Berlin", "2042-03-29 12:00Z", 2),
			 "2042-03-30 03:00+0200, 2042-03-31 02:30+0200");
}
END_TEST

/*
 * America/New_York 2025: 9 March 02:00 EST -> 03:00 EDT (07:00Z);
 * 2 November 02:00 EDT -> 01:00 EST (06:00Z), 01:00-01:59 occurs twice.
 */
START_TEST(dst_america_new_york)
{
	ck_assert_str_eq(seq("30 2 * * *", "America/New_York", "2025-03-08 00:00Z", 3),
			 "2025-03-08 02:30-0500, 2025-03-09 03:00-0400, 2025-03-10 02:30-0400");
	/* 02:30 exists once on 2 November (after the repeated hour). */
	ck_assert_str_eq(seq("30 2 * * *", "America/New_York", "2025-11-01 12:00Z", 2),
			 "2025-11-02 02:30-0500, 2025-11-03 02:30-0500");
	/* 01:30 occurs twice: the first (EDT) only. */
	ck_assert_str_eq(seq("30 1 * * *", "America/New_York", "2025-11-01 12:00Z", 2),
			 "2025-11-02 01:30-0400, 2025-11-03 01:30-0500");
	ck_assert_str_eq(seq("0 * * * *", "America/New_York", "2025-03-09 05:30Z", 3),
			 "2025-03-09 01:00-0500, 2025-03-09 03:00-0400, 2025-03-09 04:00-0400");
	ck_assert_str_eq(seq("0 * * * *", "America/New_York", "2025-11-02 03:30Z", 4),
			 "2025-11-02 00:00-0400, 2025-11-02 01:00-0400, 2025-11-02 02:00-0500, "
			 "2025-11-02 03:00-0500");
	/* Southern hemisphere: Sydney springs forward on 5 October 2025 at 02:00. */
	ck_assert_str_eq(seq("30 2 * * *", "Australia/Sydney", "2025-10-03 12:00Z", 3),
			 "2025-10-04 02:30+1000, 2025-10-05 03:00+1100, 2025-10-06 02:30+1100");
}
END_TEST

START_TEST(weekly_names_and_day_rules)
{
	/* 2025-01-01 is a Wednesday; @weekly is Sunday 00:00. */
	ck_assert_str_eq(seq("@weekly", "UTC", "2025-01-01 00:00Z", 2),
			 "2025-01-05 00:00+0000, 2025-01-12 00:00+0000");
	ck_assert_str_eq(seq("@weekly", "Europe/Berlin", "2025-01-01 00:00Z", 1),
			 "2025-01-05 00:00+0100");
	ck_assert_str_eq(seq("@monthly", "UTC", "2025-01-01 00:00Z", 2),
			 "2025-02-01 00:00+0000, 2025-03-01 00:00+0000");
	ck_assert_str_eq(seq("@yearly", "UTC", "2025-01-01 00:00Z", 1), "2026-01-01 00:00+0000");
	ck_assert_str_eq(seq("@daily", "UTC", "2025-01-01 00:00Z", 1), "2025-01-02 00:00+0000");
	ck_assert_str_eq(seq("@hourly", "UTC", "2025-01-01 00:00Z", 1), "2025-01-01 01:00+0000");
	/* 0, 7, SUN and sun are all Sunday. */
	const char *sundays = "2025-01-05 09:00+0000, 2025-01-12 09:00+0000";

	ck_assert_str_eq(seq("0 9 * * 0", "UTC", "2025-01-01 00:00Z", 2), sundays);
	ck_assert_str_eq(seq("0 9 * * 7", "UTC", "2025-01-01 00:00Z", 2), sundays);
	ck_assert_str_eq(seq("0 9 * * SUN", "UTC", "2025-01-01 00:00Z", 2), sundays);
	ck_assert_str_eq(seq("0 9 * * sun", "UTC", "2025-01-01 00:00Z", 2), sundays);
	/* Fri-Sun through 7. */
	ck_assert_str_eq(seq("0 9 * * 5-7", "UTC", "2025-01-01 00:00Z", 4),
			 "2025-01-03 09:00+0000, 2025-01-04 09:00+0000, 2025-01-05 09:00+0000, "
			 "2025-01-10 09:00+0000");
	/* Month and weekday names, mixed case, ranges. */
	ck_assert_str_eq(seq("0 9 * nov-Dec,FEB mon-fri", "UTC", "2025-01-30 12:00Z", 3),
			 "2025-02-03 09:00+0000, 2025-02-04 09:00+0000, 2025-02-05 09:00+0000");
	ck_assert_str_eq(seq("0 9 * nov-Dec,FEB mon-fri", "UTC", "2025-02-28 12:00Z", 1),
			 "2025-11-03 09:00+0000");
	/* Both day fields restricted: the 13th OR any Friday. */
	ck_assert_str_eq(seq("0 0 13 * 5", "UTC", "2025-06-01 00:00Z", 10),
			 "2025-06-06 00:00+0000, 2025-06-13 00:00+0000, 2025-06-20 00:00+0000, "
			 "2025-06-27 00:00+0000, 2025-07-04 00:00+0000, 2025-07-11 00:00+0000, "
			 "2025-07-13 00:00+0000, 2025-07-18 00:00+0000, 2025-07-25 00:00+0000, "
			 "2025-08-01 00:00+0000");
	/* A field that starts with '*' counts as unrestricted (Vixie cron): AND.
	 * Days 1, 11, 21, 31 that are Mondays. */
	ck_assert_str_eq(seq("0 0 */10 * 1", "UTC", "2025-01-01 00:00Z", 6),
			 "2025-03-31 00:00+0000, 2025-04-21 00:00+0000, 2025-07-21 00:00+0000, "
			 "2025-08-11 00:00+0000, 2025-09-01 00:00+0000, 2025-12-01 00:00+0000");
	/* Only day-of-week restricted: Mondays only. */
	ck_assert_str_eq(seq("0 0 * * 1", "UTC", "2025-01-01 00:00Z", 2),
			 "2025-01-06 00:00+0000, 2025-01-13 00:00+0000");
}
END_TEST

START_TEST(steps_and_ranges)
{
	ck_assert_str_eq(seq("*/15 * * * *", "UTC", "2025-01-01 10:07Z", 4),
			 "2025-01-01 10:15+0000, 2025-01-01 10:30+0000, 2025-01-01 10:45+0000, "
			 "2025-01-01 11:00+0000");
	ck_assert_str_eq(seq("1-30/5 * * * *", "UTC", "2025-01-01 10:00Z", 7),
			 "2025-01-01 10:01+0000, 2025-01-01 10:06+0000, 2025-01-01 10:11+0000, "
			 "2025-01-01 10:16+0000, 2025-01-01 10:21+0000, 2025-01-01 10:26+0000, "
			 "2025-01-01 11:01+0000");
	/* N/step is N-max/step. */
	ck_assert_str_eq(seq("5/20 * * * *", "UTC", "2025-01-01 10:00Z", 4),
			 "2025-01-01 10:05+0000, 2025-01-01 10:25+0000, 2025-01-01 10:45+0000, "
			 "2025-01-01 11:05+0000");
	ck_assert_str_eq(seq("0 9-17/4 * * *", "UTC", "2025-01-01 10:00Z", 4),
			 "2025-01-01 13:00+0000, 2025-01-01 17:00+0000, 2025-01-02 09:00+0000, "
			 "2025-01-02 13:00+0000");
	ck_assert_str_eq(seq("0,30 8,20 * * *", "UTC", "2025-01-01 08:15Z", 4),
			 "2025-01-01 08:30+0000, 2025-01-01 20:00+0000, 2025-01-01 20:30+0000, "
			 "2025-01-02 08:00+0000");
	ck_assert_str_eq(seq("0 0 1 */3 *", "UTC", "2025-01-01 00:00Z", 3),
			 "2025-04-01 00:00+0000, 2025-07-01 00:00+0000, 2025-10-01 00:00+0000");
}
END_TEST

/* Field jumps against brute force: every UTC minute of 2024 tested directly. */
START_TEST(field_jumps_agree_with_brute_force)
{
	static const char *const exprs[] = {
		"*/7 3,17 * * *",  "0 0 13 * 5",      "15 10 */10 * 1", "59 23 28-31 * *",
		"0 12 * 2 3-4",    "30 */5 1,15 * 0", "0 0 29 2 *",     "5 4 * * 6",
		"0 0 31 * 2",      "*/30 6-8 1 JAN,JUL *",
	};
	const time_t from = at("2024-01-01 00:00Z"), to = at("2025-01-01 00:00Z");

	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		struct schedule *s = mk(exprs[i], NULL);
		unsigned long n = 0;
		char *copy = strdup(exprs[i]), *save = NULL;
		unsigned long bits[5] = {0};
		bool star[5];
		time_t next;

		/* A tiny independent matcher: lists of a-b/s and numbers only. */
		for (int f = 0; f < 5; f++) {
			char *tok = strtok_r(f ? NULL : copy, " ", &save), *isave = NULL;

			star[f] = tok[0] == '*';
			for (char *it = strtok_r(tok, ",", &isave); it;
			     it = strtok_r(NULL, ",", &isave)) {
				static const char *const mon[] = {"JAN", "JUL"};
				int lo, hi, step = 1;
				char *slash = strchr(it, '/');

				if (slash)
					step = atoi(slash + 1);
				if (it[0] == '*') {
					lo = f == 2 || f == 3 ? 1 : 0;
					hi = (int[]){59, 23, 31, 12, 6}[f];
				} else if (it[0] == 'J') {
					lo = hi = strcmp(it, mon[0]) == 0 ? 1 : 7;
				} else {
					lo = hi = atoi(it);
					if (strchr(it, '-'))
						hi = atoi(strchr(it, '-') + 1);
				}
				for (int v = lo; v <= hi; v += step)
					bits[f] |= 1UL << v;
			}
		}
		free(copy);
		next = from;
		ck_assert_int_eq(schedule_next(s, from, &next), 0);
		for (time_t t = from + 60; t < to; t += 60) {
			struct tm tm;
			bool dom, dow, day;

			gmtime_r(&t, &tm);
			dom = bits[2] >> tm.tm_mday & 1;
			dow = bits[4] >> tm.tm_wday & 1;
			day = star[2] || star[4] ? dom && dow : dom || dow;
			if (!(bits[0] >> tm.tm_min & 1) || !(bits[1] >> tm.tm_hour & 1) ||
			    !(bits[3] >> (tm.tm_mon + 1) & 1) || !day)
				continue;
			if (next != t)
				ck_abort_msg("'%s': expected %lld, next() said %lld", exprs[i],
					     (long long)t, (long long)next);
			if (schedule_next(s, t, &next) != 0)
				ck_abort_msg("'%s': next() failed", exprs[i]);
			n++;
		}
		ck_assert_msg(next >= to, "'%s': next() found %lld, brute force nothing", exprs[i],
			      (long long)next);
		ck_assert_msg(n > 0, "'%s' never fired in 2024", exprs[i]);
		schedule_free(s);
	}
}
END_TEST

START_TEST(intervals_are_anchored)
{
	struct schedule *s;
	time_t t;

	/* Anchored at the epoch: on the quarter hours, whatever `after` is. */
	ck_assert_str_eq(seq("every 15m", "UTC", "2025-01-01 10:07:13Z", 3),
			 "2025-01-01 10:15+0000, 2025-01-01 10:30+0000, 2025-01-01 10:45+0000");
	ck_assert_str_eq(seq("every 1h30m", "UTC", "2025-01-01 00:00Z", 2),
			 "2025-01-01 01:30+0000, 2025-01-01 03:00+0000");
	ck_assert_str_eq(seq("every 30s", "UTC", "2025-01-01 00:00:29Z", 2),
			 "2025-01-01 00:00:30+0000, 2025-01-01 00:01+0000");
	/* "every 1d" fires at 00:00 UTC, whatever the zone. */
	ck_assert_str_eq(seq("every 1d", "America/New_York", "2025-07-01 12:00Z", 1),
			 "2025-07-01 20:00-0400");

	/* No drift: a run that started late does not move the next one. */
	s = mk("every 10m", NULL);
	ck_assert_int_eq(schedule_next(s, at("2025-01-01 10:10:37Z"), &t), 0);
	ck_assert_int_eq(t, at("2025-01-01 10:20Z"));
	/* Exactly on a fire time: the next one. */
	ck_assert_int_eq(schedule_next(s, at("2025-01-01 10:20Z"), &t), 0);
	ck_assert_int_eq(t, at("2025-01-01 10:30Z"));
	/* Another anchor, including before it (floor, not truncation). */
	schedule_set_anchor(s, at("2025-01-01 10:03:20Z"));
	ck_assert_int_eq(schedule_next(s, at("2025-01-01 10:05Z"), &t), 0);
	ck_assert_int_eq(t, at("2025-01-01 10:13:20Z"));
	ck_assert_int_eq(schedule_next(s, at("2025-01-01 09:55Z"), &t), 0);
	ck_assert_int_eq(t, at("2025-01-01 10:03:20Z"));
	ck_assert_int_eq(schedule_next(s, at("1969-12-31 23:55Z"), &t), 0);
	ck_assert_int_eq(t, at("1970-01-01 00:03:20Z"));
	schedule_free(s);
}
END_TEST

START_TEST(missed_runs_collapse_into_one)
{
	struct schedule *s = mk("every 15m", NULL);
	struct schedule_catch_up c;

	/* On time: nothing missed yet. */
	ck_assert_int_eq(schedule_catch_up(s, at("2025-01-01 10:00Z"), at("2025-01-01 10:14:59Z"),
					   &c), 0);
	ck_assert(!c.run);
	ck_assert_int_eq(c.next, at("2025-01-01 10:15Z"));
	/* Exactly due. */
	ck_assert_int_eq(schedule_catch_up(s, at("2025-01-01 10:00Z"), at("2025-01-01 10:15Z"), &c),
			 0);
	ck_assert(c.run);
	ck_assert_int_eq(c.due, at("2025-01-01 10:15Z"));
	ck_assert_uint_eq(c.missed, 1);
	ck_assert_int_eq(c.next, at("2025-01-01 10:30Z"));
	/* Asleep from 10:00 to 13:07: 12 fires, one run, next on the grid. */
	ck_assert_int_eq(schedule_catch_up(s, at("2025-01-01 10:00Z"), at("2025-01-01 13:07Z"), &c),
			 0);
	ck_assert(c.run);
	ck_assert_int_eq(c.due, at("2025-01-01 10:15Z"));
	ck_assert_uint_eq(c.missed, 12);
	ck_assert_int_eq(c.next, at("2025-01-01 13:15Z"));
	/* Then done_until = now: nothing more is due before 13:15. */
	ck_assert_int_eq(schedule_catch_up(s, at("2025-01-01 13:07Z"), at("2025-01-01 13:10Z"), &c),
			 0);
	ck_assert(!c.run);
	ck_assert_int_eq(c.next, at("2025-01-01 13:15Z"));
	/* The clock stepped back an hour: no run, continue from now. */
	ck_assert_int_eq(schedule_catch_up(s, at("2025-01-01 12:00Z"), at("2025-01-01 11:02Z"), &c),
			 0);
	ck_assert(!c.run);
	ck_assert_int_eq(c.next, at("2025-01-01 11:15Z"));
	schedule_free(s);

	/* Cron in a zone: a laptop asleep over four 03:00 runs. */
	s = mk("0 3 * * *", "Europe/Berlin");
	ck_assert_int_eq(schedule_catch_up(s, at("2025-03-01 03:00+0100"),
					   at("2025-03-05 10:00+0100"), &c), 0);
	ck_assert(c.run);
	ck_assert_int_eq(c.due, at("2025-03-02 03:00+0100"));
	ck_assert_uint_eq(c.missed, 4);
	ck_assert_int_eq(c.next, at("2025-03-06 03:00+0100"));
	schedule_free(s);

	/* A month of every-minute fires: counted up to the cap, still one run. */
	s = mk("* * * * *", NULL);
	ck_assert_int_eq(schedule_catch_up(s, at("2025-01-01 00:00Z"), at("2025-02-01 00:00:30Z"),
					   &c), 0);
	ck_assert(c.run);
	ck_assert_uint_eq(c.missed, SCHEDULE_MISSED_MAX);
	ck_assert_int_eq(c.due, at("2025-01-01 00:01Z"));
	ck_assert_int_eq(c.next, at("2025-02-01 00:01Z"));
	schedule_free(s);
}
END_TEST

START_TEST(jitter_is_stable_and_spreads)
{
	struct schedule *s = mk("*/5 * * * *", NULL), *again = mk("*/5 * * * *", NULL);
	int buckets[10] = {0}, seen[300] = {0}, distinct = 0;

	for (int i = 1; i <= 200; i++) {
		char name[32];
		int j;

		snprintf(name, sizeof(name), "db-%03d", i);
		j = schedule_jitter(s, name, 300);
		/* Stable: same name, same offset, from another schedule object too. */
		ck_assert_int_eq(schedule_jitter(s, name, 300), j);
		ck_assert_int_eq(schedule_jitter(again, name, 300), j);
		/* Below the 5-minute period. */
		ck_assert_int_ge(j, 0);
		ck_assert_int_lt(j, 300);
		buckets[j / 30]++;
		if (!seen[j]++)
			distinct++;
	}
	/* 200 targets over 300 s: every 30-second slice gets some (20 expected). */
	for (int b = 0; b < 10; b++)
		ck_assert_msg(buckets[b] >= 8 && buckets[b] <= 35, "slice %d holds %d targets", b,
			      buckets[b]);
	ck_assert_int_ge(distinct, 140);
	schedule_free(again);

	/* No jitter asked, none given. */
	ck_assert_int_eq(schedule_jitter(s, "db-001", 0), 0);
	ck_assert_int_eq(schedule_jitter(s, "db-001", -5), 0);
	schedule_free(s);

	/* Capped below the shortest gap between fires. */
	static const struct {
		const char *expr;
		int max;
	} caps[] = {{"every 30s", 29}, {"0,1 0 * * *", 59}, {"0 0,6 * * *", 600},
		    {"59 23 * * *", 600}, {"0 0 29 2 *", 600}, {"*/2 * * * *", 119}};

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int max_seen = 0;

		s = mk(caps[i].expr, NULL);
		for (int k = 0; k < 400; k++) {
			char name[32];
			int j;

			snprintf(name, sizeof(name), "target-%d", k);
			j = schedule_jitter(s, name, 600);
			ck_assert_int_ge(j, 0);
			ck_assert_msg(j <= caps[i].max, "'%s': %d", caps[i].expr, j);
			if (j > max_seen)
				max_seen = j;
		}
		/* ...and the range is used. */
		ck_assert_msg(max_seen >= caps[i].max * 9 / 10, "'%s': at most %d", caps[i].expr,
			      max_seen);
		schedule_free(s);
	}
}
END_TEST

/* A rare schedule must not turn next() into a long search: 10,000 calls terminate. */
START_TEST(rare_schedules_terminate)
{
	struct schedule *s = mk("0 0 29 2 */7", "Europe/Berlin");
	time_t base = at("1970-01-01 00:00Z");

	for (int i = 0; i < 10000; i++) {
		time_t after = base + (time_t)i * 86400 * 29, t;
		struct tm tm;
		long off;

		if (schedule_next(s, after, &t) != 0 || t <= after)
			ck_abort_msg("after %lld: no fire", (long long)after);
		off = schedule_utc_offset(s, t);
		t += off;
		gmtime_r(&t, &tm);
		if (tm.tm_mon != 1 || tm.tm_mday != 29 || tm.tm_wday != 0 || tm.tm_hour != 0 ||
		    tm.tm_min != 0)
			ck_abort_msg("after %lld: fired at local %lld", (long long)after,
				     (long long)t);
	}
	schedule_free(s);
}
END_TEST

START_TEST(out_of_range_times)
{
	struct schedule *s = mk("0 0 29 2 *", NULL);
	time_t t = 0;

	/* No Feb 29 between 9997-03-01 and the end of year 9999. */
	ck_assert_int_eq(schedule_next(s, at("9997-03-01 00:00Z"), &t), -ERANGE);
	ck_assert_int_eq(t, 0);
	ck_assert_int_eq(schedule_next(s, at("9996-01-01 00:00Z"), &t), 0);
	ck_assert_int_eq(t, at("9996-02-29 00:00Z"));
	ck_assert_int_eq(schedule_next(s, (time_t)1 << 40, &t), -ERANGE);
	schedule_free(s);
}
END_TEST

static Suite *schedule_suite(void)
{
	Suite *s = suite_create("schedule");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, valid_expressions_parse);
	tcase_add_test(tc, invalid_expressions_say_what_and_where);
	tcase_add_test(tc, errors_take_the_callers_file_line_prefix);
	tcase_add_test(tc, zones_are_validated);
	tcase_add_test(tc, zone_offsets_agree_with_the_c_library);
	tcase_add_test(tc, month_ends);
	tcase_add_test(tc, leap_days);
	tcase_add_test(tc, dst_europe_berlin);
	tcase_add_test(tc, dst_america_new_york);
	tcase_add_test(tc, weekly_names_and_day_rules);
	tcase_add_test(tc, steps_and_ranges);
	tcase_add_test(tc, field_jumps_agree_with_brute_force);
	tcase_add_test(tc, intervals_are_anchored);
	tcase_add_test(tc, missed_runs_collapse_into_one);
	tcase_add_test(tc, jitter_is_stable_and_spreads);
	tcase_add_test(tc, rare_schedules_terminate);
	tcase_add_test(tc, out_of_range_times);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(schedule_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
