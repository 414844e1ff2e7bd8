/* What store.c shares with store_audit.c and store_retention.c; not a public API. */
#ifndef SCHEMADRIFT_STORE_INTERNAL_H
#define SCHEMADRIFT_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "store.h"

#define HISTORY_FILE "history.log"
#define AUDIT_FILE "audit.log"
#define BASELINE_FILE "baseline.json"
#define RETENTION_FILE "retention.json"
#define LOCK_FILE "lock"
#define SNAPSHOT_DIR "snapshots"
#define CORRUPT_DIR "corrupt"
#define DAY_SECONDS 86400
/* After a run, history is trimmed only once a line is this far past the limit,
 * so a target checked every minute does not rewrite its history every minute. */
#define HISTORY_TRIM_SLACK DAY_SECONDS

struct store {
	struct store_options opts;
	char *state_dir;
	char *target;
	char *dir;
	int lock_fd;
	int lock_depth;
};

/* <dir>/<name>, malloc'd. */
char *store_path(const struct store *s, const char *name);
/* Adds the errno's name to a write error: "...: No space left on device (ENOSPC)". */
int store_errno_named(struct error *err, int code);
int store_mkdir_one(const char *path, struct error *err);
bool store_is_hex_hash(const char *s);
/* The time in a JSON field, or -1. */
time_t store_json_time(const json_t *obj, const char *key);
/* Reads a file of JSON lines; calls fn for each complete line that parses. */
int store_read_json_lines(struct store *s, const char *name,
			  int (*fn)(json_t *j, size_t line_no, void *data), void *data,
			  size_t *ret_bad, size_t *ret_lines, struct error *err);
/* Names of stored snapshots (64 hex digits), malloc'd array. */
int store_list_snapshots(struct store *s, char (**ret)[65], size_t *ret_n, struct error *err);
/* Also returns each run's line number in the file and how many complete lines it has. */
int store_history_load_lines(struct store *s, struct store_history **ret, size_t **ret_lines,
			     size_t *ret_total, struct error *err);

/* store_audit.c */
bool store_audit_has_id(const json_t *audit, const char *id);
/* Restores baseline.json from the last baseline entry of the audit log. */
int store_audit_restore_baseline(struct store *s, const json_t *audit, struct error *err);

/* store_retention.c: retention over the given history (which matches the file: we hold
 * the lock); exact trims history lines within the slack too. */
int store_prune_locked(struct store *s, const struct store_history *h, const size_t *lines,
		       bool exact, struct store_prune_result *ret, struct error *err);

#endif
