/* Per-target history store: content-addressed snapshots, run history, baseline, audit log (docs/store.md). */
#ifndef SCHEMADRIFT_STORE_H
#define SCHEMADRIFT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "diff.h"
#include "error.h"
#include "model.h"

#define STORE_DEFAULT_STATE_DIR "/var/lib/schemadrift"
#define STORE_DEFAULT_KEEP_SNAPSHOTS 100
#define STORE_DEFAULT_KEEP_DAYS 30
#define STORE_DEFAULT_HISTORY_DAYS 365
#define STORE_DEFAULT_LOCK_TIMEOUT_MS 30000
#define STORE_TARGET_MAX 100

typedef time_t (*store_now_fn)(void *data);

/*
 * The central store (`store = postgresql`, docs/store.md): the same files
 * in tables of a PostgreSQL database (schema STORE_PG_SCHEMA, migrated on
 * first use), so that every daemon and every CLI pointed at it sees the same
 * history, snapshots, baselines, acknowledgements and audit log.  One
 * connection, shared by every struct store opened with it and used under a
 * mutex (a store of the daemon's loop and one of its report thread take
 * turns).  Each call blocks for at most timeout_ms per statement.
 */
#define STORE_PG_SCHEMA "schemadrift_store"
#define STORE_PG_SCHEMA_VERSION 1
struct store_central;
struct store_central_options {
	const char *dsn;
	const char *password;   /* NULL: none (or .pgpass, a service file) */
	int connect_timeout_ms; /* 0: 10 s */
	int64_t timeout_ms;     /* one statement; 0: 10 s */
};
/* Copies o's strings; connects on first use. */
int store_central_new(const struct store_central_options *o, struct store_central **ret,
		      struct error *err);
/* Connects and brings the schema up to date (the daemon's start, a CLI's first call). */
int store_central_check(struct store_central *c, bool *ret_migrated, struct error *err);
void store_central_free(struct store_central *c);
/*
 * The central store a configuration names ([daemon] store = postgresql,
 * store_dsn or coordination's DSN, and the matching password key, read when
 * secrets); *ret is NULL with store = file.  Errors give the key's file:line.
 */
struct config;
int store_central_from_config(const struct config *c, bool secrets, struct store_central **ret,
			      struct error *err);
/* "postgresql:host:port/dbname", for messages. */
const char *store_central_where(const struct store_central *c);
/* Statements sent so far (for /metrics). */
uint64_t store_central_queries(struct store_central *c);
/* A problem that did not stop the operation (a corrupt file moved aside, a bad history line). */
typedef void (*store_warn_fn)(const char *message, void *data);

struct store_options {
	const char *state_dir;  /* NULL: STORE_DEFAULT_STATE_DIR */
	store_now_fn now;       /* NULL: time(); tests pass a fake clock */
	void *now_data;
	store_warn_fn warn;     /* NULL: warnings are dropped */
	void *warn_data;
	int lock_timeout_ms;    /* 0: STORE_DEFAULT_LOCK_TIMEOUT_MS */
	/* The central store, or NULL: files under state_dir.  With it, state_dir
	 * still holds what stays local (the daemon's alerts.log, check and verify
	 * state). */
	struct store_central *central;
};

/*
 * Retention, kept per target in retention.json so the daemon and the CLI
 * prune the same way.  A snapshot is kept when it is the baseline, the
 * latest, one of the keep_snapshots most recently seen distinct snapshots,
 * or seen within the last keep_days days (0: age keeps nothing).  History
 * lines older than history_days are dropped, except the last line and the
 * last successful run.
 */
struct store_retention {
	int keep_snapshots;
	int keep_days;
	int history_days;
};

/*
 * A struct store belongs to one thread.  Every write blocks on fsync and may
 * wait up to lock_timeout_ms for another writer (another process, or another
 * struct store of the same target: flock excludes those too).  The daemon
 * calls it on its event loop today (docs/architecture.md, "Blocking calls"):
 * the common run appends one history line without an fsync, and only runs
 * that store a new snapshot wait for the disk.
 */
struct store;

/* Target names: [A-Za-z0-9][A-Za-z0-9_.-]*, at most STORE_TARGET_MAX bytes. */
bool store_target_valid(const char *name);

/*
 * Opens the store of one target under <state_dir>/targets/<target>/.  With
 * create, missing directories are made; without, a missing store is -ENOENT.
 * Opening takes no lock and reads nothing.
 */
int store_open(const struct store_options *opts, const char *target, bool create,
	       struct store **ret, struct error *err);
void store_free(struct store *s);

const char *store_target(const struct store *s);
/* The target's local directory (with the central store: only for what stays local). */
const char *store_dir(const struct store *s);
/* Where the store is, for messages: the directory, or "postgresql HOST:PORT/DB". */
const char *store_where(const struct store *s);
bool store_is_central(const struct store *s);
time_t store_now(const struct store *s);
/* Reports a warning through the options' callback (printf-style). */
void store_warn(const struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Every target with a store under state_dir, sorted; *ret is a NULL-terminated malloc'd array. */
int store_list_targets(const struct store_options *opts, char ***ret, size_t *ret_n,
		       struct error *err);
void store_strv_free(char **v);

/*
 * The writer lock (flock on <target>/lock), re-entrant within one struct
 * store.  Taking it also finishes what a writer that died left behind:
 * removes its temporary files and appends audit entries that its state
 * file recorded but the audit log did not get.  Every store_* write takes
 * it itself; take it explicitly only to make several operations one step.
 */
int store_lock(struct store *s, struct error *err);
void store_unlock(struct store *s);

/* Moves <target dir>/name (a file that cannot be used) into corrupt/, under the
 * lock; its new path goes to ret_path. */
int store_quarantine(struct store *s, const char *name, char *ret_path, size_t size,
		     struct error *err);

/* ------------------------------------------------------------- history */

enum store_outcome { STORE_RUN_OK, STORE_RUN_ERROR };

/* Counts of a diff between two consecutive distinct snapshots. */
struct store_summary {
	bool known;             /* false: no previous snapshot, or it was not kept */
	size_t changes;
	size_t by_type[4];      /* enum diff_change_type */
	size_t by_severity[3];  /* enum diff_severity */
};

/* One history line. */
struct store_run {
	time_t time;            /* when the run started */
	enum store_outcome outcome;
	long long duration_ms;
	char hash[65];          /* "" for a failed run */
	size_t objects;
	bool new_snapshot;      /* this run stored the snapshot file */
	char from[65];          /* the previous distinct hash; "" on the first run or no change */
	struct store_summary summary; /* from -> hash, when from is set */
	char *error;            /* failed runs: why; malloc'd */
};

struct store_history {
	struct store_run *runs; /* in file order (oldest first) */
	size_t n;
	size_t bad_lines;       /* lines that did not parse (each reported as a warning) */
};

int store_history_load(struct store *s, struct store_history **ret, struct error *err);
void store_history_free(struct store_history *h);
/* The last successful run, or NULL. */
const struct store_run *store_history_latest(const struct store_history *h);

/* One run to record: a model (success) or an error text (failure). */
struct store_record {
	time_t started;         /* 0: store_now() */
	long long duration_ms;
	struct model *model;    /* hashed here if needed */
	const char *error;      /* when model is NULL */
	/* When model and error are NULL: the change probe saw nothing move, so
	 * the schema is still this hash (the latest run's); nothing is written
	 * but the history line, and that one without an fsync or retention: it
	 * is the common case (a monitored schema rarely changes), and losing the
	 * last such line in a crash loses nothing but a timestamp. */
	const char *unchanged;
	size_t unchanged_objects; /* with unchanged: the snapshot's object count */
};

/*
 * Records a run exactly as the daemon does: stores the snapshot when its
 * hash is new (temp + fsync + rename + fsync dir), diffs against the
 * previous distinct snapshot for the summary, appends one history line and
 * applies retention (whose failures are warnings: the run is recorded).
 * If storing fails, a failed run with that error is appended if possible
 * and the error (naming the path and errno) is returned.
 * ret (may be NULL) gets the line written; free with store_run_done().
 */
int store_record_run(struct store *s, const struct store_record *rec, struct store_run *ret,
		     struct error *err);
void store_run_done(struct store_run *r);

/* ----------------------------------------------------------- snapshots */

/* <dir>/snapshots/<hash>.json, malloc'd; NULL on ENOMEM. */
char *store_snapshot_path(const struct store *s, const char *hash);
bool store_snapshot_exists(const struct store *s, const char *hash);

/*
 * Loads a stored snapshot and checks it is the one its name says.  A file
 * that does not parse or verify is moved aside to <dir>/corrupt/ (reported
 * through warn, with both paths) and -EBADMSG is returned.
 */
int store_load_snapshot(struct store *s, const char *hash, struct model **ret, struct error *err);

/*
 * Resolves a reference to a full hash: "baseline", "latest", an ISO 8601 time
 * (the snapshot in force then: the last successful run at or before it),
 * or a unique prefix (at least 4 hex digits) of a stored snapshot's hash.
 */
int store_resolve(struct store *s, const char *ref, char ret_hash[65], struct error *err);

/* ----------------------------------------------------------- retention */

int store_retention_get(struct store *s, struct store_retention *ret, struct error *err);
/* Saves the policy (fields < 0 keep their current value). */
int store_retention_set(struct store *s, const struct store_retention *r, struct error *err);

struct store_prune_result {
	size_t snapshots_kept;
	size_t snapshots_removed;
	size_t lines_removed;
};

/* Applies retention now (also done after every recorded run). */
int store_prune(struct store *s, struct store_prune_result *ret, struct error *err);

/* ------------------------------------------------------------ baseline */

struct store_baseline {
	char hash[65];
	time_t accepted_at;
	char *accepted_by;
	char *reason;
	char *action;  /* "baseline create" or "baseline accept" */
};

/* -ENOENT when the target has no baseline. */
int store_baseline_get(struct store *s, struct store_baseline *ret, struct error *err);
void store_baseline_done(struct store_baseline *b);

/*
 * Makes a stored snapshot the baseline, with who/when/why, and appends the
 * accept to the audit log.  hash must be a full hash of a stored snapshot
 * that loads.  action: "baseline create" or "baseline accept".
 */
int store_baseline_set(struct store *s, const char *hash, const char *action, const char *who,
		       const char *reason, struct error *err);

/* --------------------------------------------------------------- audit */

/*
 * Writes a state file (baseline.json, acks.json) that records its change
 * (the `audit` entry, which gets an "id", "time" and "target" here) and then
 * appends that entry to audit.log.  If the writer dies in between, the next
 * store_lock() finds the entry missing from audit.log and appends it, so
 * every change that took effect is audited and nothing unaudited stays.
 * Takes over neither reference.  Needs the lock.
 */
int store_write_state(struct store *s, const char *name, json_t *state, json_t *audit,
		      struct error *err);
/* A state file's JSON (new reference); -ENOENT when absent; a corrupt one is moved aside. */
int store_read_state(struct store *s, const char *name, json_t **ret, struct error *err);

/*
 * Another state file of the target, by name relative to it ("alert-state.json",
 * "checks/alert-state.json"): read whole (-ENOENT when absent), replaced
 * atomically and durably.  In the central store, like everything above.
 */
int store_file_get(struct store *s, const char *name, char **ret, size_t *ret_len,
		   struct error *err);
int store_file_put(struct store *s, const char *name, const char *buf, size_t len,
		   struct error *err);

/* Every entry of audit.log, oldest first (a JSON array, new reference). */
/* A number that changes with every audit entry (a baseline accepted, an
 * acknowledgement): one stat or one indexed query; -1 when it cannot be read. */
long long store_audit_mark(struct store *s);
int store_audit_load(struct store *s, json_t **ret, struct error *err);

/* ---------------------------------------------------------------- time */

/*
 * Parses YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.fff]] with an optional Z or
 * +HH:MM/-HH:MM (no zone means UTC).  *ret_date_only (may be NULL) tells a
 * bare date.
 */
int store_parse_time(const char *s, time_t *ret, bool *ret_date_only);

/* JSON helpers shared with ack.c: strings as in snapshots ({"hex": ...} for bad UTF-8). */
char *store_json_string_dup(const json_t *j);

#endif
