/* Run schedules: cron and interval parsing, next fire times in a zone, jitter, catch-up. */
#include "schedule.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calendar.h"
#include "zone.h"

/* Instants accepted: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define TIME_MIN (-62135596800LL)
#define TIME_MAX (253402300799LL)
/* The Gregorian calendar repeats (weekdays included) every 400 years, so a
 * day/month/weekday pattern that has not matched in 401 years never will. */
#define SEARCH_YEARS 401

/* ---- schedules ---- */

struct schedule {
	char *text;
	/* Interval schedules: fire at anchor + k * interval. */
	int64_t interval;
	int64_t anchor;
	/* Cron schedules: bit v set when value v matches. */
	uint64_t minutes;
	uint32_t hours;
	uint32_t doms;   /* bits 1..31 */
	uint32_t months; /* bits 1..12 */
	uint32_t dows;   /* bits 0..6, 0 = Sunday */
	/* The field began with '*': cron then ANDs day-of-month and
	 * day-of-week instead of ORing them (Vixie cron's rule). */
	bool dom_star, dow_star;
	struct zone zone;
};

struct cron_field {
	const char *name;
	int min, max;
	const char *const *names; /* names[i] is value names_base + i */
	int names_base;
	const char *name_kind;
};

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
					  "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const dow_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

static const struct cron_field cron_fields[5] = {
	{"minute", 0, 59, NULL, 0, NULL},
	{"hour", 0, 23, NULL, 0, NULL},
	{"day-of-month", 1, 31, NULL, 0, NULL},
	{"month", 1, 12, month_names, 1, "month"},
	{"day-of-week", 0, 7, dow_names, 0, "day-of-week"},
};

static int field_error(struct error *err, const struct cron_field *f, const char *item,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int field_error(struct error *err, const struct cron_field *f, const char *item,
		       const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_set(err, -EINVAL, "%s field '%s': %s", f->name, item, msg);
}

/* One number or name at *pp; item is the whole list item, for messages. */
static int field_value(const struct cron_field *f, const char *item, const char **pp, int *ret,
		       struct error *err)
{
	const char *p = *pp, *start = *pp;
	bool whole;

	if (isdigit((unsigned char)*p)) {
		long v = 0;

		while (isdigit((unsigned char)*p)) {
			if (v < 100000)
				v = v * 10 + (*p - '0');
			p++;
		}
		whole = start == item && *p == '\0';
		if (v < f->min || v > f->max) {
			if (whole)
				return field_error(err, f, item, "out of range %d-%d", f->min,
						   f->max);
			return field_error(err, f, item, "%.*s is out of range %d-%d",
					   (int)(p - start), start, f->min, f->max);
		}
		*ret = (int)v;
		*pp = p;
		return 0;
	}
	if (isalpha((unsigned char)*p)) {
		while (isalnum((unsigned char)*p))
			p++;
		if (!f->names)
			return field_error(err, f, item, "expected a number %d-%d, not '%.*s'",
					   f->min, f->max, (int)(p - start), start);
		for (int i = 0; f->names[i]; i++)
			if (p - start == 3 && strncasecmp(start, f->names[i], 3) == 0) {
				*ret = f->names_base + i;
				*pp = p;
				return 0;
			}
		return field_error(err, f, item, "unknown %s name '%.*s'", f->name_kind,
				   (int)(p - start), start);
	}
	if (*p == '\0')
		return field_error(err, f, item, "missing value at the end");
	return field_error(err, f, item, "unexpected '%c'", *p);
}

static int field_parse(const struct cron_field *f, char *text, uint64_t *ret, struct error *err)
{
	uint64_t bits = 0;
	char *save = NULL, *item;
	size_t len = strlen(text);

	if (text[0] == ',' || text[len - 1] == ',' || strstr(text, ",,"))
		return field_error(err, f, text, "empty list item");
	for (item = strtok_r(text, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		const char *p = item;
		int lo, hi, step = 1, r;
		bool single = false;

		if (*p == '*') {
			lo = f->min;
			hi = f->max;
			p++;
		} else {
			r = field_value(f, item, &p, &lo, err);
			if (r < 0)
				return r;
			hi = lo;
			single = true;
			if (*p == '-') {
				p++;
				r = field_value(f, item, &p, &hi, err);
				if (r < 0)
					return r;
				single = false;
				if (lo > hi)
					return field_error(err, f, item,
							   "range start is after its end (ranges "
							   "do not wrap around; use a list)");
			}
		}
		if (*p == '/') {
			long v = 0;
			const char *q = ++p;

			while (isdigit((unsigned char)*p)) {
				if (v < 100000)
					v = v * 10 + (*p - '0');
				p++;
			}
			if (p == q || v < 1 || v > f->max)
				return field_error(err, f, item, "step must be a number 1-%d",
						   f->max);
			step = (int)v;
			/* "5/15" means 5-max/15, as in cronie and systemd. */
			if (single)
				hi = f->max;
		}
		if (*p != '\0')
			return field_error(err, f, item, "unexpected '%c'", *p);
		for (int v = lo; v <= hi; v += step)
			bits |= (uint64_t)1 << v;
	}
	*ret = bits;
	return 0;
}

static int cron_parse(struct schedule *s, const char *text, struct error *err)
{
	static const char *const shorthands[][2] = {
		{"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
		{"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
		{"@annually", "0 0 1 1 *"},
	};
	char buf[512], *tok[6], *save = NULL;
	const char *orig[5];
	char copies[5][128];
	uint64_t bits[5];
	int n = 0, r;

	if (text[0] == '@') {
		const char *exp = NULL;

		for (size_t i = 0; i < sizeof(shorthands) / sizeof(shorthands[0]); i++)
			if (strcasecmp(text, shorthands[i][0]) == 0)
				exp = shorthands[i][1];
		if (!exp)
			return error_set(err, -EINVAL,
					 "unknown schedule '%s' (known: @hourly, @daily, "
					 "@midnight, @weekly, @monthly, @yearly, @annually)", text);
		text = exp;
	}
	if (strlen(text) >= sizeof(buf))
		return error_set(err, -EINVAL, "schedule too long (%zu characters)", strlen(text));
	strcpy(buf, text);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n < 6)
			tok[n] = t;
		n++;
	}
	if (n != 5)
		return error_set(err, -EINVAL,
				 "expected 5 fields (minute hour day-of-month month day-of-week), "
				 "got %d", n);
	for (int i = 0; i < 5; i++) {
		if (strlen(tok[i]) >= sizeof(copies[i]))
			return error_set(err, -EINVAL, "%s field too long", cron_fields[i].name);
		strcpy(copies[i], tok[i]);
		orig[i] = tok[i];
		r = field_parse(&cron_fields[i], copies[i], &bits[i], err);
		if (r < 0)
			return r;
	}
	s->minutes = bits[0];
	s->hours = (uint32_t)bits[1];
	s->doms = (uint32_t)bits[2];
	s->months = (uint32_t)bits[3];
	s->dows = (uint32_t)((bits[4] | bits[4] >> 7) & 0x7f); /* 7 is Sunday too */
	s->dom_star = orig[2][0] == '*';
	s->dow_star = orig[4][0] == '*';

	/* With day-of-week '*' the day-of-month must exist in some selected
	 * month, or the schedule would never fire ("0 0 30 2 *"). */
	if (s->dow_star && !s->dom_star) {
		static const int longest[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		bool any = false;

		for (int m = 1; m <= 12; m++)
			if (s->months & (1u << m))
				for (int d = 1; d <= longest[m]; d++)
					if (s->doms & (1u << d))
						any = true;
		if (!any)
			return error_set(err, -EINVAL,
					 "day-of-month field '%s' never occurs in month field "
					 "'%s': the schedule would never fire", orig[2], orig[3]);
	}
	return 0;
}

static int interval_parse(struct schedule *s, const char *text, struct error *err)
{
	static const struct {
		char unit;
		int64_t secs;
	} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	const char *p = text + 5, *dur;
	int64_t total = 0;
	size_t next_unit = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	dur = p;
	if (*p == '\0')
		return error_set(err, -EINVAL,
				 "interval 'every': missing duration (like 'every 15m' or "
				 "'every 1h30m')");
	while (*p) {
		int64_t v = 0;
		const char *num = p;
		size_t u;

		while (isdigit((unsigned char)*p)) {
			if (v < SCHEDULE_INTERVAL_MAX)
				v = v * 10 + (*p - '0');
			p++;
		}
		if (p == num)
			return error_set(err, -EINVAL, "interval '%s': expected a number at '%s'",
					 dur, p);
		if (*p == '\0' || *p == ' ' || *p == '\t')
			return error_set(err, -EINVAL,
					 "interval '%s': missing unit after %.*s (s, m, h or d)",
					 dur, (int)(p - num), num);
		for (u = 0; u < 4; u++)
			if (tolower((unsigned char)*p) == units[u].unit)
				break;
		if (u == 4)
			return error_set(err, -EINVAL,
					 "interval '%s': unknown unit '%c' (s, m, h or d)", dur,
					 *p);
		if (u < next_unit)
			return error_set(err, -EINVAL,
					 "interval '%s': units must go from largest to smallest, "
					 "each once (d, h, m, s)", dur);
		next_unit = u + 1;
		p++;
		if (v > SCHEDULE_INTERVAL_MAX / units[u].secs)
			total = SCHEDULE_INTERVAL_MAX + 1;
		else
			total += v * units[u].secs;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (total < 1)
		return error_set(err, -EINVAL, "interval '%s': must be at least 1 second", dur);
	if (total > SCHEDULE_INTERVAL_MAX)
		return error_set(err, -EINVAL, "interval '%s': longer than 366 days", dur);
	s->interval = total;
	return 0;
}

int schedule_parse(const char *text, struct schedule **ret, struct error *err)
{
	struct schedule *s;
	const char *b, *e;
	int r;

	if (!text)
		text = "";
	for (b = text; *b == ' ' || *b == '\t'; b++)
		;
	for (e = b + strlen(b); e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
					 e[-1] == '\r'); e--)
		;
	if (e == b)
		return error_set(err, -EINVAL, "empty schedule");
	s = calloc(1, sizeof(*s));
	if (!s)
		return error_set(err, -ENOMEM, "out of memory");
	s->text = strndup(b, (size_t)(e - b));
	s->zone.name = strdup("UTC");
	if (!s->text || !s->zone.name) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (strncasecmp(s->text, "every", 5) == 0 &&
	    (s->text[5] == '\0' || s->text[5] == ' ' || s->text[5] == '\t'))
		r = interval_parse(s, s->text, err);
	else
		r = cron_parse(s, s->text, err);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	schedule_free(s);
	return r;
}

void schedule_free(struct schedule *s)
{
	if (!s)
		return;
	free(s->text);
	zone_done(&s->zone);
	free(s);
}

int schedule_set_zone(struct schedule *s, const char *zone, struct error *err)
{
	struct zone z;
	int r = zone_load(&z, zone, err);

	if (r < 0)
		return r;
	zone_done(&s->zone);
	s->zone = z;
	return 0;
}

int schedule_zone_check(const char *zone, struct error *err)
{
	struct zone z;
	int r = zone_load(&z, zone, err);

	if (r == 0)
		zone_done(&z);
	return r;
}

void schedule_set_anchor(struct schedule *s, time_t anchor)
{
	s->anchor = anchor;
}

const char *schedule_text(const struct schedule *s)
{
	return s->text;
}

const char *schedule_zone(const struct schedule *s)
{
	return s->zone.name;
}

long schedule_interval(const struct schedule *s)
{
	return (long)s->interval;
}

long schedule_utc_offset(const struct schedule *s, time_t t)
{
	return zone_offset(&s->zone, t);
}

/* ---- next fire time ---- */

struct civil {
	int64_t y;
	int mo, d, h, mi;
};

static void civil_from_local(int64_t l, struct civil *c)
{
	int64_t days = calendar_floor_div(l, 86400), secs = l - days * 86400;

	calendar_civil_from_days(days, &c->y, &c->mo, &c->d);
	c->h = (int)(secs / 3600);
	c->mi = (int)(secs % 3600 / 60);
}

static int64_t local_from_civil(const struct civil *c)
{
	return calendar_days_from_civil(c->y, c->mo, c->d) * 86400 + c->h * 3600 + c->mi * 60;
}

/* Smallest bit >= from that is set in mask, or -1. */
static int next_bit(uint64_t mask, int from)
{
	if (from > 63)
		return -1;
	mask >>= from;
	return mask ? from + __builtin_ctzll(mask) : -1;
}

static bool day_matches(const struct schedule *s, const struct civil *c)
{
	bool dom = s->doms & (1u << c->d);
	bool dow = s->dows & (1u << calendar_weekday(calendar_days_from_civil(c->y, c->mo, c->d)));

	return s->dom_star || s->dow_star ? dom && dow : dom || dow;
}

static void next_day(struct civil *c)
{
	c->h = 0;
	c->mi = 0;
	if (++c->d > calendar_days_in_month(c->y, c->mo)) {
		c->d = 1;
		if (++c->mo > 12) {
			c->mo = 1;
			c->y++;
		}
	}
}

/* Advances c to the first matching local minute at or after c, field by field. */
static int cron_match(const struct schedule *s, struct civil *c, int64_t limit_year)
{
	for (;;) {
		int v;

		if (c->y > limit_year)
			return -ERANGE;
		if (!(s->months & (1u << c->mo))) {
			v = next_bit(s->months, c->mo + 1);
			if (v < 0) {
				c->y++;
				v = next_bit(s->months, 1);
			}
			c->mo = v;
			c->d = 1;
			c->h = 0;
			c->mi = 0;
			continue;
		}
		if (!day_matches(s, c)) {
			next_day(c);
			continue;
		}
		if (!(s->hours & (1u << c->h))) {
			v = next_bit(s->hours, c->h + 1);
			if (v < 0) {
				next_day(c);
				continue;
			}
			c->h = v;
			c->mi = 0;
		}
		if (!(s->minutes & ((uint64_t)1 << c->mi))) {
			v = next_bit(s->minutes, c->mi + 1);
			if (v < 0) {
				/* Next matching hour of the same day, or the next day. */
				v = next_bit(s->hours, c->h + 1);
				if (v < 0 || v > 23) {
					next_day(c);
					continue;
				}
				c->h = v;
				c->mi = next_bit(s->minutes, 0);
				return 0;
			}
			c->mi = v;
		}
		return 0;
	}
}

static int cron_next(const struct schedule *s, const struct zone *z, int64_t after,
		     int64_t *ret)
{
	int64_t l = after + zone_offset(z, after);
	/* Fires are at second 0: the first candidate is the next whole minute. */
	int64_t cand = calendar_floor_div(l, 60) * 60 + 60;
	struct civil c;
	int64_t limit;

	civil_from_local(cand, &c);
	limit = c.y + SEARCH_YEARS > 9999 ? 9999 : c.y + SEARCH_YEARS;
	for (;;) {
		int64_t u;
		int r = cron_match(s, &c, limit);

		if (r < 0)
			return r;
		cand = local_from_civil(&c);
		u = zone_local_to_utc(z, cand);
		/* Not after `after`: this local time's first occurrence (or its
		 * gap's end) has passed; a second occurrence never fires. */
		if (u > after) {
			*ret = u;
			return 0;
		}
		civil_from_local(cand + 60, &c);
	}
}

int schedule_next(const struct schedule *s, time_t after, time_t *ret)
{
	int64_t a = after, u;

	if (a < TIME_MIN || a > TIME_MAX)
		return -ERANGE;
	if (s->interval) {
		int64_t anchor = s->anchor;

		if (anchor < TIME_MIN || anchor > TIME_MAX)
			return -ERANGE;
		u = anchor + (calendar_floor_div(a - anchor, s->interval) + 1) * s->interval;
	} else {
		int r = cron_next(s, &s->zone, a, &u);

		if (r < 0)
			return r;
	}
	if (u > TIME_MAX)
		return -ERANGE;
	*ret = (time_t)u;
	return 0;
}

/* ---- jitter ---- */

/*
 * The shortest nominal gap between two fires, in seconds (as on days without
 * DST changes): within a day from the fire minutes, across days from the
 * closest two matching days in 8 years from 2001.  INT64_MAX when that
 * sample holds fewer than two fires.
 */
static int64_t shortest_gap(const struct schedule *s)
{
	int first = -1, last = -1, prev = -1;
	int64_t best = INT64_MAX, prev_day = INT64_MIN;
	int64_t d0 = calendar_days_from_civil(2001, 1, 1);

	if (s->interval)
		return s->interval;
	for (int h = 0; h < 24; h++) {
		if (!(s->hours & (1u << h)))
			continue;
		for (int m = 0; m < 60; m++) {
			int t = h * 60 + m;

			if (!(s->minutes & ((uint64_t)1 << m)))
				continue;
			if (first < 0)
				first = t;
			if (prev >= 0 && (int64_t)(t - prev) * 60 < best)
				best = (int64_t)(t - prev) * 60;
			prev = last = t;
		}
	}
	for (int64_t day = d0; day < d0 + 8 * 366; day++) {
		struct civil c = {0};

		calendar_civil_from_days(day, &c.y, &c.mo, &c.d);
		if (!(s->months & (1u << c.mo)) || !day_matches(s, &c))
			continue;
		if (prev_day != INT64_MIN) {
			int64_t gap = ((day - prev_day) * 1440 + first - last) * 60;

			if (gap < best)
				best = gap;
		}
		prev_day = day;
	}
	return best;
}

int schedule_jitter(const struct schedule *s, const char *target_name, int max_jitter_s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 */
	int64_t cap = max_jitter_s, gap;

	if (max_jitter_s <= 0 || !target_name)
		return 0;
	gap = shortest_gap(s);
	if (gap - 1 < cap)
		cap = gap - 1;
	if (cap <= 0)
		return 0;
	for (const unsigned char *p = (const unsigned char *)target_name; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	/* splitmix64's finalizer: FNV's low bits alone spread similar names
	 * ("db-001", "db-002") poorly. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (int)(h % (uint64_t)(cap + 1));
}

/* ---- catching up ---- */

int schedule_catch_up(const struct schedule *s, time_t done_until, time_t now,
		      struct schedule_catch_up *ret)
{
	struct schedule_catch_up res = {0};
	time_t first, t;
	int r;

	/* A clock stepped backwards: continue from now.  A fire may repeat;
	 * a monitor prefers that to going quiet until the clock catches up. */
	if (done_until > now)
		done_until = now;
	r = schedule_next(s, done_until, &first);
	if (r < 0)
		return r;
	if (first > now) {
		res.next = first;
		*ret = res;
		return 0;
	}
	res.run = true;
	res.due = first;
	if (s->interval) {
		int64_t k = ((int64_t)now - first) / s->interval + 1;

		res.missed = k > SCHEDULE_MISSED_MAX ? SCHEDULE_MISSED_MAX : (unsigned)k;
	} else {
		res.missed = 1;
		for (t = first; res.missed < SCHEDULE_MISSED_MAX; res.missed++) {
			r = schedule_next(s, t, &t);
			if (r < 0)
				return r;
			if (t > now)
				break;
		}
	}
	r = schedule_next(s, now, &res.next);
	if (r < 0)
		return r;
	*ret = res;
	return 0;
}
