/* verify: is the live schema what the repository says?  Both sides, one reader, one diff. */
#ifndef SCHEMADRIFT_VERIFY_H
#define SCHEMADRIFT_VERIFY_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "diff.h"
#include "error.h"
#include "filter.h"
#include "migrate.h"
#include "model.h"
#include "scratch.h"

/* Version of verify_to_json()'s format (docs/verify.md). */
#define VERIFY_JSON_VERSION 1

struct verify_options {
	const char *dsn;             /* the target */
	const char *password;        /* or NULL (libpq's usual sources) */
	const char *expected;        /* a .sql file, a directory, a snapshot file; or NULL */
	const char *expected_format; /* NULL: detected */
	const char *expected_cmd;    /* a migration tool to run against the scratch database */
	struct scratch_options scratch;
	const struct filter *filter; /* the same noise control on both sides; NULL: none */
	bool partitions_full;
	int connect_timeout_ms;
	/* Called with the scratch side once it exists and with NULL before it is
	 * freed, so that a signal handler can clean it up (the CLI). */
	void (*on_scratch)(struct scratch *s, void *arg);
	void *arg;
};

/* Seconds spent per part, for --timing and the benchmark. */
struct verify_timing {
	double live, history, scratch_start, load, scratch_read, compare;
};

struct verify_result {
	struct model *live;        /* filtered, hashed; the history table left out */
	struct model *expected;    /* the same */
	struct migrate_set *set;   /* the repository's files; NULL for a snapshot or a command */
	struct diff *diff;         /* from expected (repository) to live (database) */
	char *database;            /* the target, described without a password */
	char *format;              /* "golang-migrate", "snapshot", "command", ... */
	char *scratch;             /* scratch_describe(), or NULL */
	int target_version, scratch_version; /* PQserverVersion(); 0 when not known */
	char **warnings;
	size_t n_warnings;
	struct verify_timing timing;
	struct filter filter;      /* what both sides were filtered with (incl. the history table) */
};

/*
 * Reads the target, builds the expected schema in a scratch database (or
 * reads the snapshot), and compares them.  A load failure is -EBADMSG with
 * "FILE:LINE: message" in err.
 */
int verify_run(const struct verify_options *o, struct verify_result **ret, struct error *err);
void verify_result_free(struct verify_result *r);

/* The three-way view (--target NAME): the target's accepted baseline. */
struct verify_baseline {
	const char *target;
	const char *hash;
	const struct diff *to_live;     /* baseline -> database */
	const struct diff *to_expected; /* baseline -> repository */
};

/* Objects that differ, pending migrations, history findings. */
size_t verify_differences(const struct verify_result *r);
size_t verify_pending(const struct verify_result *r);
/* 0: the database is what the repository says (pending migrations allowed), 1: it is not. */
int verify_status(const struct verify_result *r);

int verify_write_text(const struct verify_result *r, const struct verify_baseline *b, FILE *out);
json_t *verify_to_json(const struct verify_result *r, const struct verify_baseline *b);
int verify_write_junit(const struct verify_result *r, FILE *out);
int verify_write_github(const struct verify_result *r, FILE *out);
/* A GitHub annotation for a load error "FILE:LINE: message" (or any error). */
void verify_github_error(const char *text, FILE *out);

#endif
