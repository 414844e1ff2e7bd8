/* Run schedules: cron and interval parsing, TZif time zones, next fire times, jitter, catch-up. */
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

/*
 * Why our own TZif reader instead of setenv("TZ") + tzset() + mktime():
 * the daemon's worker threads run libESMTP, OpenSSL and the resolver, which
 * call getenv(); setenv() on the loop thread may reallocate environ under
 * them.  Reading the zone file once per schedule costs ~100 lines, needs no
 * lock and makes local -> UTC explicit, where mktime() leaves gaps and
 * overlaps to the C library's choice.
 */

/* Instants accepted: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define TIME_MIN (-62135596800LL)
#define TIME_MAX (253402300799LL)
/* No UTC offset is a day or more; transitions that matter for local time L
 * lie within this distance of L read as UTC. */
#define OFFSET_WINDOW (26 * 3600)
/* The Gregorian calendar repeats (weekdays included) every 400 years, so a
 * day/month/weekday pattern that has not matched in 401 years never will. */
#define SEARCH_YEARS 401

/* ---- calendar (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Howard Hinnant's days_from_civil. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era;
	int64_t yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *ret_y, int *ret_m, int *ret_d)
{
	int64_t era, doe, yoe, doy, mp;
	int m;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*ret_d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*ret_m = m;
	*ret_y = yoe + era * 400 + (m <= 2);
}

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(int64_t days)
{
	return (int)(((days + 4) % 7 + 7) % 7);
}

static int64_t year_of(int64_t t)
{
	int64_t y;
	int m, d;

	civil_from_days(floor_div(t, 86400), &y, &m, &d);
	return y;
}

/* ---- time zones ---- */

/* A date in a POSIX TZ rule: Jn (1-365, no Feb 29), n (0-365) or Mm.w.d. */
struct rule_date {
	char kind; /* 'J', 'N' or 'M' */
	int n, m, w, d;
	int32_t time; /* local wall time of the change, seconds (may be < 0 or > 24h) */
};

struct zone_rule {
	int32_t std_off, dst_off; /* seconds east of UTC */
	bool has_dst;
	struct rule_date start, end;
};

struct zone {
	char *name;
	/* Table: off[i] is in effect from at[i]; off0 before at[0].  Only
	 * entries that change the offset are kept. */
	int64_t *at;
	int32_t *off;
	size_t n;
	int32_t off0;
	/* The TZif footer: local time after the table. */
	bool has_rule;
	struct zone_rule rule;
};

struct zone_change {
	int64_t at;
	int32_t before, after;
};

static void zone_done(struct zone *z)
{
	free(z->name);
	free(z->at);
	free(z->off);
	memset(z, 0, sizeof(*z));
}

static int64_t rule_day(const struct rule_date *r, int64_t year)
{
	int64_t first;
	int day, dim;

	switch (r->kind) {
	case 'J':
		first = days_from_civil(year, 1, 1) + r->n - 1;
		return is_leap(year) && r->n >= 60 ? first + 1 : first;
	case 'N':
		return days_from_civil(year, 1, 1) + r->n;
	default:
		first = days_from_civil(year, r->m, 1);
		day = 1 + (r->d - weekday(first) + 7) % 7 + (r->w - 1) * 7;
		dim = days_in_month(year, r->m);
		while (day > dim)
			day -= 7;
		return first + day - 1;
	}
}

/*
 * The rule's changes in years y-1..y+1, in time order.  On a tie the later
 * entry wins; DST start comes after the previous year's end, which is how
 * "DST all year" rules (start Jan 1 00:00, end Dec 31 24:00 + save) encode.
 */
static size_t rule_changes(const struct zone_rule *r, int64_t y, struct zone_change out[6])
{
	size_t n = 0;

	for (int64_t yy = y - 1; yy <= y + 1; yy++) {
		out[n++] = (struct zone_change){
			.at = rule_day(&r->start, yy) * 86400 + r->start.time - r->std_off,
			.before = r->std_off, .after = r->dst_off};
		out[n++] = (struct zone_change){
			.at = rule_day(&r->end, yy) * 86400 + r->end.time - r->dst_off,
			.before = r->dst_off, .after = r->std_off};
	}
	/* Insertion sort, stable. */
	for (size_t i = 1; i < n; i++) {
		struct zone_change c = out[i];
		size_t j = i;

		for (; j > 0 && out[j - 1].at > c.at; j--)
			out[j] = out[j - 1];
		out[j] = c;
	}
	return n;
}

/* Index of the first table entry after t (z->n when none). */
static size_t zone_upper(const struct zone *z, int64_t t)
{
	size_t lo = 0, hi = z->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (z->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int32_t zone_offset(const struct zone *z, int64_t u)
{
	size_t i = zone_upper(z, u);
	int32_t off;
	struct zone_change ch[6];
	size_t nch;

	if (i == 0 && z->n)
		return z->off0;
	if (i < z->n)
		return z->off[i - 1];
	/* After the table (or no table): the footer rule. */
	off = z->n ? z->off[z->n - 1] : z->off0;
	if (!z->has_rule)
		return off;
	if (!z->rule.has_dst)
		return z->rule.std_off;
	nch = rule_changes(&z->rule, year_of(u), ch);
	for (size_t k = 0; k < nch && ch[k].at <= u; k++)
		if (z->n == 0 || ch[k].at > z->at[z->n - 1])
			off = ch[k].after;
	return off;
}

static bool zone_is_fixed(const struct zone *z)
{
	return z->n == 0 && (!z->has_rule || !z->rule.has_dst);
}

/* Offset changes with a < at <= b, in time order, at most max. */
static size_t zone_changes(const struct zone *z, int64_t a, int64_t b, struct zone_change *out,
			   size_t max)
{
	int64_t cand[64];
	size_t nc = 0, n = 0;
	int64_t last = z->n ? z->at[z->n - 1] : INT64_MIN;

	for (size_t i = zone_upper(z, a); i < z->n && z->at[i] <= b && nc < 32; i++)
		cand[nc++] = z->at[i];
	if (z->has_rule && z->rule.has_dst && b > last) {
		for (int64_t y = year_of(a); y <= year_of(b) + 1 && nc + 6 <= 64; y += 3) {
			struct zone_change ch[6];
			size_t k = rule_changes(&z->rule, y, ch);

			for (size_t i = 0; i < k; i++)
				if (ch[i].at > a && ch[i].at <= b && ch[i].at > last)
					cand[nc++] = ch[i].at;
		}
	}
	/* Sort and deduplicate; before/after come from zone_offset() so the
	 * table and the rule answer consistently. */
	for (size_t i = 1; i < nc; i++) {
		int64_t v = cand[i];
		size_t j = i;

		for (; j > 0 && cand[j - 1] > v; j--)
			cand[j] = cand[j - 1];
		cand[j] = v;
	}
	for (size_t i = 0; i < nc && n < max; i++) {
		struct zone_change c;

		if (i > 0 && cand[i] == cand[i - 1])
			continue;
		c.at = cand[i];
		c.before = zone_offset(z, c.at - 1);
		c.after = zone_offset(z, c.at);
		if (c.before != c.after)
			out[n++] = c;
	}
	return n;
}

/*
 * Local wall time L (seconds, as if UTC) -> the instant it first occurs.
 * A local time in a spring-forward gap does not occur: the answer is then
 * the first instant after the gap.
 */
static int64_t zone_local_to_utc(const struct zone *z, int64_t l)
{
	struct zone_change ch[16];
	size_t n;
	int64_t best = INT64_MAX;
	int32_t offs[17];
	size_t noffs = 0;

	if (zone_is_fixed(z))
		return l - zone_offset(z, 0);
	n = zone_changes(z, l - OFFSET_WINDOW - 1, l + OFFSET_WINDOW, ch, 16);
	offs[noffs++] = zone_offset(z, l - OFFSET_WINDOW - 1);
	for (size_t i = 0; i < n; i++)
		offs[noffs++] = ch[i].after;
	for (size_t i = 0; i < noffs; i++) {
		int64_t u = l - offs[i];

		if (zone_offset(z, u) == offs[i] && u < best)
			best = u;
	}
	if (best != INT64_MAX)
		return best;
	for (size_t i = 0; i < n; i++)
		if (ch[i].at + ch[i].before <= l && l < ch[i].at + ch[i].after)
			return ch[i].at;
	/* Not reached for consistent zone data. */
	return l - zone_offset(z, l);
}

/* ---- TZif (RFC 8536) ---- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
	uint32_t isut, isstd, leap, time, type, chr;
};

static void tzif_counts(const unsigned char *h, struct tzif_counts *c)
{
	c->isut = be32(h + 20);
	c->isstd = be32(h + 24);
	c->leap = be32(h + 28);
	c->time = be32(h + 32);
	c->type = be32(h + 36);
	c->chr = be32(h + 40);
}

static uint64_t tzif_block_size(const struct tzif_counts *c, unsigned tsize)
{
	return (uint64_t)c->time * tsize + c->time + (uint64_t)c->type * 6 + c->chr +
	       (uint64_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

/* POSIX TZ string parsing, for the footer: a cursor over the text. */
static bool tz_name(const char **pp)
{
	const char *p = *pp;

	if (*p == '<') {
		const char *q = strchr(p, '>');

		if (!q || q == p + 1)
			return false;
		*pp = q + 1;
		return true;
	}
	while (isalpha((unsigned char)*p))
		p++;
	if (p - *pp < 3)
		return false;
	*pp = p;
	return true;
}

/* [+-]hh[:mm[:ss]] with hh <= max_h; seconds. */
static bool tz_hms(const char **pp, int max_h, int32_t *ret)
{
	const char *p = *pp;
	int sign = 1, part[3] = {0, 0, 0};

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (int i = 0; i < 3; i++) {
		int v = 0, digits = 0;

		if (i > 0) {
			if (*p != ':')
				break;
			p++;
		}
		while (isdigit((unsigned char)*p) && digits < 3) {
			v = v * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0 || (i > 0 && v > 59) || (i == 0 && v > max_h))
			return false;
		part[i] = v;
	}
	*ret = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	*pp = p;
	return true;
}

static bool tz_number(const char **pp, int lo, int hi, int *ret)
{
	const char *p = *pp;
	int v = 0, digits = 0;

	while (isdigit((unsigned char)*p) && digits < 4) {
		v = v * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0 || v < lo || v > hi)
		return false;
	*ret = v;
	*pp = p;
	return true;
}

static bool tz_date(const char **pp, struct rule_date *r)
{
	const char *p = *pp;

	if (*p == 'J') {
		p++;
		r->kind = 'J';
		if (!tz_number(&p, 1, 365, &r->n))
			return false;
	} else if (*p == 'M') {
		p++;
		r->kind = 'M';
		if (!tz_number(&p, 1, 12, &r->m) || *p++ != '.' || !tz_number(&p, 1, 5, &r->w) ||
		    *p++ != '.' || !tz_number(&p, 0, 6, &r->d))
			return false;
	} else {
		r->kind = 'N';
		if (!tz_number(&p, 0, 365, &r->n))
			return false;
	}
	r->time = 7200;
	if (*p == '/') {
		p++;
		/* RFC 8536 3.3.1: hours may be -167..167. */
		if (!tz_hms(&p, 167, &r->time))
			return false;
	}
	*pp = p;
	return true;
}

static bool tz_rule_parse(const char *s, struct zone_rule *r)
{
	const char *p = s;
	int32_t off;

	memset(r, 0, sizeof(*r));
	if (!tz_name(&p) || !tz_hms(&p, 24, &off))
		return false;
	r->std_off = -off; /* POSIX offsets count west */
	if (*p == '\0')
		return true;
	if (!tz_name(&p))
		return false;
	r->has_dst = true;
	r->dst_off = r->std_off + 3600;
	if (*p && *p != ',') {
		if (!tz_hms(&p, 24, &off))
			return false;
		r->dst_off = -off;
	}
	if (*p == '\0') {
		/* POSIX leaves the default rule to the implementation; this is glibc's. */
		r->start = (struct rule_date){.kind = 'M', .m = 3, .w = 2, .d = 0, .time = 7200};
		r->end = (struct rule_date){.kind = 'M', .m = 11, .w = 1, .d = 0, .time = 7200};
		return true;
	}
	if (*p++ != ',' || !tz_date(&p, &r->start) || *p++ != ',' || !tz_date(&p, &r->end))
		return false;
	return *p == '\0';
}

static int tzif_parse(struct zone *z, const unsigned char *buf, size_t len, const char *name,
		      struct error *err)
{
	struct tzif_counts c;
	const unsigned char *data, *types, *idx, *end = buf + len;
	unsigned tsize = 4;
	int32_t prev;

	if (len < 44 || memcmp(buf, "TZif", 4) != 0)
		return error_set(err, -EBADMSG, "time zone '%s': %s/%s is not a TZif file", name,
				 SCHEDULE_ZONEINFO_DIR, name);
	tzif_counts(buf, &c);
	data = buf + 44;
	if (buf[4] >= '2') {
		/* Skip the 32-bit block to the 64-bit header and data. */
		uint64_t skip = tzif_block_size(&c, 4);

		if (skip > (uint64_t)(end - data) || (uint64_t)(end - data) - skip < 44 ||
		    memcmp(data + skip, "TZif", 4) != 0)
			goto bad;
		tzif_counts(data + skip, &c);
		data += skip + 44;
		tsize = 8;
	}
	if (tzif_block_size(&c, tsize) > (uint64_t)(end - data) || c.type == 0 || c.type > 256)
		goto bad;
	if (c.leap)
		return error_set(err, -EBADMSG,
				 "time zone '%s': has leap seconds, which Unix time does not count "
				 "(use the zone without the right/ prefix)", name);
	idx = data + (size_t)c.time * tsize;
	types = idx + c.time;
	for (uint32_t i = 0; i < c.type; i++) {
		int32_t o = (int32_t)be32(types + 6 * i);

		if (o <= -OFFSET_WINDOW + 3600 || o >= OFFSET_WINDOW - 3600)
			goto bad;
	}
	z->off0 = (int32_t)be32(types);
	if (c.time) {
		z->at = malloc(c.time * sizeof(*z->at));
		z->off = malloc(c.time * sizeof(*z->off));
		if (!z->at || !z->off)
			return error_set(err, -ENOMEM, "out of memory");
	}
	prev = z->off0;
	for (uint32_t i = 0; i < c.time; i++) {
		int64_t at = tsize == 8 ? be64(data + 8 * i) : (int32_t)be32(data + 4 * i);
		int32_t o;

		if (idx[i] >= c.type || (i > 0 && at <= (tsize == 8 ? be64(data + 8 * (i - 1)) :
							 (int32_t)be32(data + 4 * (i - 1)))))
			goto bad;
		o = (int32_t)be32(types + 6 * idx[i]);
		if (o == prev)
			continue;
		z->at[z->n] = at;
		z->off[z->n++] = o;
		prev = o;
	}
	if (tsize == 8) {
		const unsigned char *f = data + tzif_block_size(&c, 8), *nl;
		char rule[128];

		if (f >= end || *f != '\n')
			goto bad;
		nl = memchr(f + 1, '\n', (size_t)(end - f - 1));
		if (!nl || (size_t)(nl - f - 1) >= sizeof(rule))
			goto bad;
		memcpy(rule, f + 1, (size_t)(nl - f - 1));
		rule[nl - f - 1] = '\0';
		if (rule[0]) {
			if (!tz_rule_parse(rule, &z->rule))
				return error_set(err, -EBADMSG,
						 "time zone '%s': unsupported rule '%s' in %s/%s",
						 name, rule, SCHEDULE_ZONEINFO_DIR, name);
			z->has_rule = true;
		}
	}
	return 0;
bad:
	return error_set(err, -EBADMSG, "time zone '%s': %s/%s is a damaged TZif file", name,
			 SCHEDULE_ZONEINFO_DIR, name);
}

static int zone_name_check(const char *name, struct error *err)
{
	size_t len = strlen(name);
	const char *p;

	if (len == 0)
		return error_set(err, -EINVAL, "time zone '': empty name");
	if (len > 200)
		return error_set(err, -EINVAL, "time zone '%.40s...': name too long", name);
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_+-.", *p))
			return error_set(err, -EINVAL,
					 "time zone '%s': unexpected character '%c' (names look "
					 "like Europe/Berlin)", name, *p);
	if (name[0] == '/')
		return error_set(err, -EINVAL,
				 "time zone '%s': must be a name relative to %s, "
				 "like Europe/Berlin", name, SCHEDULE_ZONEINFO_DIR);
	/* Every path component must be a plain name: no "", "." or "..". */
	for (p = name;; ) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return error_set(err, -EINVAL,
					 "time zone '%s': '.', '..' and empty path components are "
					 "not allowed", name);
		if (!p[n])
			break;
		p += n + 1;
	}
	return 0;
}

static int zone_load(struct zone *z, const char *name, struct error *err)
{
	char path[512];
	unsigned char *buf = NULL;
	struct stat st;
	size_t got = 0;
	int fd, r;

	memset(z, 0, sizeof(*z));
	r = zone_name_check(name, err);
	if (r < 0)
		return r;
	z->name = strdup(name);
	if (!z->name)
		return error_set(err, -ENOMEM, "out of memory");
	if (strcmp(name, "UTC") == 0)
		return 0;

	snprintf(path, sizeof(path), "%s/%s", SCHEDULE_ZONEINFO_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT || e == ENOTDIR)
			r = error_set(err, -ENOENT, "time zone '%s': unknown (no file %s)", name,
				      path);
		else
			r = error_set(err, -e, "time zone '%s': %s: %s", name, path, strerror(e));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = error_set(err, -errno, "time zone '%s': %s: %s", name, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = error_set(err, -EINVAL, "time zone '%s': %s is not a zone file", name, path);
		goto out;
	}
	if (st.st_size > 1 << 20) {
		r = error_set(err, -EBADMSG, "time zone '%s': %s is not a TZif file", name, path);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = error_set(err, -errno, "time zone '%s': reading %s: %s", name, path,
				      strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	r = tzif_parse(z, buf, got, name, err);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	if (r < 0)
		zone_done(z);
	return r;
}

int schedule_zone_parse(const char *name, const unsigned char *buf, size_t len,
			struct error *err)
{
	static const int64_t probes[] = { INT32_MIN, -1, 0, 1700000000, 4102444800LL,
					  INT64_C(253402300799) };
	struct zone z = { 0 };
	int r = tzif_parse(&z, buf, len, name, err);

	/* Through the table and the footer's rule: what a schedule would do. */
	for (size_t i = 0; r == 0 && i < sizeof(probes) / sizeof(probes[0]); i++) {
		struct zone_change ch[4];

		(void)zone_offset(&z, probes[i]);
		(void)zone_local_to_utc(&z, probes[i]);
		(void)zone_changes(&z, probes[i], probes[i] + 400 * 86400, ch, 4);
	}
	zone_done(&z);
	return r;
}

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
	int64_t days = floor_div(l, 86400), secs = l - days * 86400;

	civil_from_days(days, &c->y, &c->mo, &c->d);
	c->h = (int)(secs / 3600);
	c->mi = (int)(secs % 3600 / 60);
}

static int64_t local_from_civil(const struct civil *c)
{
	return days_from_civil(c->y, c->mo, c->d) * 86400 + c->h * 3600 + c->mi * 60;
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
	bool dow = s->dows & (1u << weekday(days_from_civil(c->y, c->mo, c->d)));

	return s->dom_star || s->dow_star ? dom && dow : dom || dow;
}

static void next_day(struct civil *c)
{
	c->h = 0;
	c->mi = 0;
	if (++c->d > days_in_month(c->y, c->mo)) {
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
	int64_t cand = floor_div(l, 60) * 60 + 60;
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
		u = anchor + (floor_div(a - anchor, s->interval) + 1) * s->interval;
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
	int64_t d0 = days_from_civil(2001, 1, 1);

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

		civil_from_days(day, &c.y, &c.mo, &c.d);
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
