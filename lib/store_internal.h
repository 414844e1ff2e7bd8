/* What store.c shares with store_audit.c and store_retention.c; not a public API. */
#ifndef SCHEMADRIFT_STORE_INTERNAL_H
#define SCHEMADRIFT_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/*
 * Where a store keeps its files: the file backend (store_file.c: the
 * directory <state_dir>/targets/<target>/) or the central store
 * (store_pg.c: tables in PostgreSQL).  Everything above this line of
 * functions (history, snapshots by hash, baselines, audit, retention) is
 * written once, in store.c, store_audit.c and store_retention.c, in terms of
 * named files of one target:
 *   - state files (baseline.json, acks.json, retention.json, ...): read whole,
 *     replaced atomically and durably;
 *   - logs (history.log, audit.log): appended a line at a time, read whole,
 *     replaced when retention trims them;
 *   - snapshots/HASH.json: written once, read, listed, removed;
 *   - corrupt/: where a file that cannot be used is moved (or copied) aside.
 * Names are relative ("snapshots/<hash>.json"); errors name the file as
 * store_path() shows it.
 */
struct store_ops {
	/* Whole contents; -ENOENT when absent (err untouched then). */
	int (*read)(struct store *s, const char *name, char **ret, size_t *ret_len,
		    struct error *err);
	/* Replaces the file with buf, durably, all or nothing. */
	int (*write)(struct store *s, const char *name, const void *buf, size_t len,
		     struct error *err);
	/* Replaces state file name and appends line to audit.log, as one step where the
	 * backend can (the central store: one transaction; the file backend: the file,
	 * then the line, with store_lock()'s recovery for a writer that died between). */
	int (*write_audited)(struct store *s, const char *name, const void *buf, size_t len,
			     const char *line, size_t line_len, struct error *err);
	/* Appends one line (with its '\n'); durable when sync. */
	int (*append)(struct store *s, const char *name, const char *line, size_t len, bool sync,
		      struct error *err);
	/* 1 when the file exists, 0 when not, < 0 on error. */
	int (*exists)(struct store *s, const char *name);
	/* Removes a file; an absent one is no error. */
	int (*remove)(struct store *s, const char *name, struct error *err);
	/* A number that changes whenever a line is appended to the log (or it is
	 * rewritten), cheaply: its size, the last row's number; -1 on error. */
	long long (*log_mark)(struct store *s, const char *name);
	/* When the file was last written, or -1. */
	time_t (*mtime)(struct store *s, const char *name);
	/* The names in a directory ("snapshots", "corrupt"), NULL-terminated; none: empty. */
	int (*list)(struct store *s, const char *dir, char ***ret, size_t *ret_n,
		    struct error *err);
	/* Moves (keep: copies) a file into corrupt/ under its name plus the time; the
	 * new name as store_path() shows it goes to ret_path.  Needs the lock. */
	int (*aside)(struct store *s, const char *name, bool keep, char *ret_path, size_t size,
		     struct error *err);
	/* The writer lock (store_lock() counts the re-entries); unlock never fails. */
	int (*lock)(struct store *s, struct error *err);
	void (*unlock)(struct store *s);
	/* Whether a writer can die between a state file and its audit line (the file
	 * backend), so that store_lock() must check and finish such a write. */
	bool needs_recovery;
	void (*close)(struct store *s);
};

extern const struct store_ops store_file_ops;
extern const struct store_ops store_pg_ops;

/* store_pg.c: store_open() and store_list_targets() of the central store. */
int store_pg_open(struct store *s, bool create, struct error *err);
int store_pg_list_targets(struct store_central *c, char ***ret, size_t *ret_n, struct error *err);

struct store {
	struct store_options opts;
	const struct store_ops *ops;
	char *state_dir;
	char *target;
	char *dir;   /* the local directory (the central store keeps local-only files there) */
	char *where; /* how messages name the store's files: dir, or the central store's */
	int lock_fd;
	int lock_depth;
	uint64_t lock_session; /* the central store: the session the lock was taken in */
	bool registered;       /* the central store: the target's row is there */
};

/* <where>/<name>, malloc'd: the file as messages name it (for the file backend, its path). */
char *store_path(const struct store *s, const char *name);
/* <dir>/<name>, malloc'd: a path in the local directory. */
char *store_local_path(const struct store *s, const char *name);
/* Adds the errno's name to a write error: "...: No space left on device (ENOSPC)". */
int store_errno_named(struct error *err, int code);
int store_mkdir_one(const char *path, struct error *err);
int store_mkdir_parents(const char *path, size_t beneath, struct error *err);
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
