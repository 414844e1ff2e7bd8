/* Run schedules: cron expressions and fixed intervals in an IANA time zone -> next fire times. */
#ifndef SCHEMADRIFT_SCHEDULE_H
#define SCHEMADRIFT_SCHEDULE_H

#include <stdbool.h>
#include <time.h>

#include "error.h"

/*
 * Pure computation, no event loop, no global state, no clock reads: the
 * caller passes every instant in.  Time zones are read from TZif files
 * (/usr/share/zoneinfo) by lib/zone.c, so nothing here touches TZ,
 * tzset() or the environment, and every function is safe on any thread.
 * docs/schedule.md has the semantics (DST, leap days, day-of-month OR
 * day-of-week, jitter, catching up) and a sketch of the daemon's use.
 */
struct schedule;

/* Longest interval accepted by "every ...": 366 days. */
#define SCHEDULE_INTERVAL_MAX (366L * 86400)

/* schedule_catch_up() counts missed fires up to this many. */
#define SCHEDULE_MISSED_MAX 1000u

/*
 * Parses one schedule expression; the zone is "UTC" until
 * schedule_set_zone().  Accepted:
 *   "M H DOM MON DOW"  5-field cron: *, lists, ranges, steps, JAN..DEC,
 *                      SUN..SAT (case-insensitive), 0 and 7 are Sunday
 *   "@hourly" "@daily" "@midnight" "@weekly" "@monthly" "@yearly" "@annually"
 *   "every 30s" "every 15m" "every 2h" "every 1d" "every 1h30m"
 * On failure returns -EINVAL and err says what and where, without a file or
 * key ("minute field '61': out of range 0-59"); the caller prefixes those.
 * Returns -ENOMEM when out of memory.
 */
int schedule_parse(const char *text, struct schedule **ret, struct error *err);

void schedule_free(struct schedule *s);

/*
 * Loads the IANA zone `zone` (e.g. "Europe/Berlin") for s; on failure s keeps
 * its zone.  "UTC" is built in and needs no file.  Errors: -EINVAL for a name
 * that is not a plain relative path ("..", leading '/', odd characters),
 * -ENOENT when no such zone file exists, -EBADMSG when it is not a TZif file
 * (or has leap seconds: the "right/" zones), other negative errno on I/O.
 */
int schedule_set_zone(struct schedule *s, const char *zone, struct error *err);

/* Validates a zone name as schedule_set_zone() would, for config checks. */
int schedule_zone_check(const char *zone, struct error *err);

/*
 * Intervals ("every ...") fire at anchor + k * interval for every integer k.
 * The default anchor is 0 (the Unix epoch), so phases survive restarts and
 * "every 1d" fires at 00:00 UTC.  Intervals ignore the zone.  No effect on
 * cron schedules.
 */
void schedule_set_anchor(struct schedule *s, time_t anchor);

/* The expression as given, trimmed; owned by s. */
const char *schedule_text(const struct schedule *s);
/* The zone name ("UTC" by default); owned by s. */
const char *schedule_zone(const struct schedule *s);
/* Seconds of an interval schedule, 0 for a cron schedule. */
long schedule_interval(const struct schedule *s);
/* The zone's offset from UTC at t in seconds (east positive), e.g. 7200 for CEST. */
long schedule_utc_offset(const struct schedule *s, time_t t);

/*
 * The first fire time strictly after `after`.  Cron times are local times
 * in the schedule's zone at second 0 of the minute.  A local time skipped by
 * a DST change (spring forward) fires once at the first instant after the
 * gap; a local time that occurs twice (fall back) fires once, at its first
 * occurrence.  Returns 0, or -ERANGE when the answer would lie after the
 * year 9999 (or `after` is out of the years 1..9999).
 */
int schedule_next(const struct schedule *s, time_t after, time_t *ret);

/*
 * A stable per-target offset in seconds, 0..max_jitter_s, from a hash of
 * target_name: the same name always gets the same offset (so each target
 * keeps its phase across restarts and reloads), different names spread
 * evenly.  Capped below the schedule's shortest gap between two fires, so
 * shifting every fire of a target by it never reorders or merges fires.
 * The caller runs the fire due at T at T + offset.
 */
int schedule_jitter(const struct schedule *s, const char *target_name, int max_jitter_s);

struct schedule_catch_up {
	bool run;        /* at least one fire in (done_until, now]: run once now */
	time_t due;      /* when run: the earliest of those fires (lateness = now - due) */
	unsigned missed; /* how many fires in (done_until, now], at most SCHEDULE_MISSED_MAX */
	time_t next;     /* the first fire strictly after now */
};

/*
 * After a sleep, a busy loop or a late timer: every fire at or before
 * done_until has been dealt with; which fires fell in (done_until, now]?
 * However many there were, the answer is one run now (ret->run) and the next
 * fire after now, never a burst.  After running (or skipping) that run the
 * caller's new done_until is `now`.  With jitter, pass now - offset as now.
 * Returns 0 or schedule_next()'s errors; ret is written only on success.
 */
int schedule_catch_up(const struct schedule *s, time_t done_until, time_t now,
		      struct schedule_catch_up *ret);

#endif
