/* Time zones from TZif files: the offset at an instant, and when a local wall time first occurs. */
#ifndef SCHEMADRIFT_ZONE_H
#define SCHEMADRIFT_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The directory zone names are looked up in. */
#define ZONE_INFO_DIR "/usr/share/zoneinfo"

/* A date in a POSIX TZ rule: Jn (1-365, no Feb 29), n (0-365) or Mm.w.d. */
struct zone_rule_date {
	char kind; /* 'J', 'N' or 'M' */
	int n, m, w, d;
	int32_t time; /* local wall time of the change, seconds (may be < 0 or > 24h) */
};

struct zone_rule {
	int32_t std_off, dst_off; /* seconds east of UTC */
	bool has_dst;
	struct zone_rule_date start, end;
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

/*
 * Loads the IANA zone name (e.g. "Europe/Berlin") from ZONE_INFO_DIR into z;
 * "UTC" is built in and needs no file.  Errors: -EINVAL for a name that is not
 * a plain relative path, -ENOENT when no such zone file exists, -EBADMSG when
 * it is not a TZif file (or has leap seconds), other negative errno on I/O.
 * On failure z is left empty.
 */
int zone_load(struct zone *z, const char *name, struct error *err);
/* Validates a zone name as zone_load() would, without reading a file. */
int zone_name_check(const char *name, struct error *err);
void zone_done(struct zone *z);

/* The UTC offset (seconds east) in effect at instant u. */
int32_t zone_offset(const struct zone *z, int64_t u);
/* Local wall time l (seconds, as if UTC) -> the instant it first occurs; a
 * local time in a spring-forward gap gives the first instant after the gap. */
int64_t zone_local_to_utc(const struct zone *z, int64_t l);

#endif
