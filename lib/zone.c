/* Time zones read from TZif files (RFC 8536): offsets, local time -> UTC; no TZ, no tzset(). */
#include "zone.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calendar.h"

/*
 * Why our own TZif reader instead of setenv("TZ") + tzset() + mktime():
 * the daemon's worker threads run libESMTP, OpenSSL and the resolver, which
 * call getenv(); setenv() on the loop thread may reallocate environ under
 * them.  Reading the zone file once per schedule costs ~100 lines, needs no
 * lock and makes local -> UTC explicit, where mktime() leaves gaps and
 * overlaps to the C library's choice.
 */

/* No UTC offset is a day or more; transitions that matter for local time L
 * lie within this distance of L read as UTC. */
#define OFFSET_WINDOW (26 * 3600)

static int64_t year_of(int64_t t)
{
	int64_t y;
	int m, d;

	calendar_civil_from_days(calendar_floor_div(t, 86400), &y, &m, &d);
	return y;
}

/* ---- time zones ---- */

struct zone_change {
	int64_t at;
	int32_t before, after;
};

void zone_done(struct zone *z)
{
	free(z->name);
	free(z->at);
	free(z->off);
	memset(z, 0, sizeof(*z));
}

static int64_t rule_day(const struct zone_rule_date *r, int64_t year)
{
	int64_t first;
	int day, dim;

	switch (r->kind) {
	case 'J':
		first = calendar_days_from_civil(year, 1, 1) + r->n - 1;
		return calendar_is_leap(year) && r->n >= 60 ? first + 1 : first;
	case 'N':
		return calendar_days_from_civil(year, 1, 1) + r->n;
	default:
		first = calendar_days_from_civil(year, r->m, 1);
		day = 1 + (r->d - calendar_weekday(first) + 7) % 7 + (r->w - 1) * 7;
		dim = calendar_days_in_month(year, r->m);
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

int32_t zone_offset(const struct zone *z, int64_t u)
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
int64_t zone_local_to_utc(const struct zone *z, int64_t l)
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

static bool tz_date(const char **pp, struct zone_rule_date *r)
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
		r->start = (struct zone_rule_date){.kind = 'M', .m = 3, .w = 2, .d = 0, .time = 7200};
		r->end = (struct zone_rule_date){.kind = 'M', .m = 11, .w = 1, .d = 0, .time = 7200};
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
				 ZONE_INFO_DIR, name);
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
						 name, rule, ZONE_INFO_DIR, name);
			z->has_rule = true;
		}
	}
	return 0;
bad:
	return error_set(err, -EBADMSG, "time zone '%s': %s/%s is a damaged TZif file", name,
			 ZONE_INFO_DIR, name);
}

int zone_name_check(const char *name, struct error *err)
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
				 "like Europe/Berlin", name, ZONE_INFO_DIR);
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

int zone_load(struct zone *z, const char *name, struct error *err)
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

	snprintf(path, sizeof(path), "%s/%s", ZONE_INFO_DIR, name);
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
