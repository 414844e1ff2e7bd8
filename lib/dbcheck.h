/* Schema health checks: a family of checks run inside one read-only transaction, producing findings. */
#ifndef SCHEMADRIFT_DBCHECK_H
#define SCHEMADRIFT_DBCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "diff.h"
#include "error.h"
#include "ini.h"

/*
 * How a run behaves on the server (docs/checks.md, "Gentle and bounded").
 * Every statement of a check runs under statement_timeout and lock_timeout,
 * inside a savepoint of one READ ONLY transaction, so one that fails or times
 * out is reported and the rest still run.
 */
struct dbcheck_options {
	int statement_timeout_ms; /* per statement; 0: DBCHECK_DEFAULT_STATEMENT_TIMEOUT_MS */
	int lock_timeout_ms;      /* 0: DBCHECK_DEFAULT_LOCK_TIMEOUT_MS */
	long long sample_rows;    /* violating rows shown per finding; 0: default */
	long long sample_above;   /* tables estimated larger (rows) are sampled; 0: default,
				   * negative: never sample */
	bool exact_counts;        /* count every violating row (a full scan) */
	bool all_constraints;     /* orphans: valid FKs too; null-violations: valid NOT NULLs */
};

#define DBCHECK_DEFAULT_STATEMENT_TIMEOUT_MS 30000
#define DBCHECK_DEFAULT_LOCK_TIMEOUT_MS 1000
#define DBCHECK_DEFAULT_SAMPLE_ROWS 10
#define DBCHECK_DEFAULT_SAMPLE_ABOVE 1000000

/* A [check NAME] section: SQL returning the violating rows. */
struct dbcheck_custom {
	char *name;
	char *sql;
	char *description;        /* NULL when unset */
	enum diff_severity severity;
	long long max_rows;       /* 0: the run's sample_rows */
	int statement_timeout_ms; /* 0: the run's */
	int lock_timeout_ms;      /* 0: the run's */
	char **targets;           /* empty: every target */
	size_t n_targets;
	const char *file;         /* where the section is (borrowed from the ini) */
	int line;
};

struct dbcheck_custom_set {
	struct dbcheck_custom *items;
	size_t n;
};

/* Every [check NAME] section of raw; errors are FILE:LINE. */
int dbcheck_customs_from_ini(const struct ini *raw, struct dbcheck_custom_set **ret,
			   struct error *err);
void dbcheck_custom_set_free(struct dbcheck_custom_set *s);
/* A deep copy (file is borrowed still); -ENOMEM. */
int dbcheck_custom_set_dup(const struct dbcheck_custom_set *s, struct dbcheck_custom_set **ret);
bool dbcheck_custom_applies(const struct dbcheck_custom *c, const char *target);

/* One problem found.  key = "CHECK:OBJECT" (or CHECK alone without an object) is stable. */
struct dbcheck_finding {
	char *check;      /* "fk-index", "custom:NAME" */
	char *object;     /* "public.orders.orders_customer_id_fkey"; may be "" */
	char *key;
	enum diff_severity severity;
	char *message;    /* one line */
	char *fix;        /* suggested SQL (lines), or NULL */
	json_t *details;  /* an object: tables, sizes, actions, rows, counts, sampling */
};

enum dbcheck_status {
	DBCHECK_OK,       /* ran completely */
	DBCHECK_PARTIAL,  /* some objects could not be read (privileges): see notes */
	DBCHECK_TIMEOUT,  /* a statement hit statement_timeout or lock_timeout */
	DBCHECK_FAILED,   /* a statement failed otherwise */
};

/* One check as it ran. */
struct dbcheck_result {
	char *name;
	enum dbcheck_status status;
	bool reads_data;     /* it read user tables (not only the catalog) */
	char *error;         /* the first timeout or failure, NULL when none */
	json_t *notes;       /* array of strings: sampling used, tables not readable */
	size_t n_findings;
	size_t statements;   /* data statements sent (for the query-count contract) */
	long long duration_ms;
};

struct dbcheck_report {
	struct dbcheck_result *results;
	size_t n_results;
	struct dbcheck_finding *findings; /* in check order, then by object */
	size_t n_findings;
	int server_version;
};

void dbcheck_report_free(struct dbcheck_report *r);
/* docs/checks.md, "JSON".  New reference; NULL on ENOMEM. */
json_t *dbcheck_report_to_json(const struct dbcheck_report *r);
/* The highest severity of the findings, or -1 when there are none. */
int dbcheck_report_worst(const struct dbcheck_report *r);
/* Whether any check timed out or failed (the report is incomplete). */
bool dbcheck_report_incomplete(const struct dbcheck_report *r);

/*
 * What to run: names as in `--only` and the `checks` key: fk-index,
 * orphans, check-violations, null-violations, custom:NAME, "custom" (every
 * custom check that applies to target; target NULL: all) and "all" (the four
 * built-in ones and "custom").  Unknown names are -EINVAL naming them.
 */
struct dbcheck_plan;
int dbcheck_plan_new(char *const *names, size_t n_names, const struct dbcheck_custom_set *customs,
		   const char *target, struct dbcheck_plan **ret, struct error *err);
void dbcheck_plan_free(struct dbcheck_plan *p);
size_t dbcheck_plan_size(const struct dbcheck_plan *p);
/* Whether name is a check name dbcheck_plan_new() accepts (custom:NAME: any NAME). */
bool dbcheck_name_valid(const char *name);

/*
 * Runs the plan on conn (connected, idle) in one READ ONLY transaction.
 * Blocking: the CLI calls it directly, the daemon on a worker thread.  Fails
 * (negative, err) only when the transaction itself cannot run; a check that
 * fails or times out is reported in its result.
 */
int dbcheck_run(PGconn *conn, const struct dbcheck_plan *p, const struct dbcheck_options *o,
	      struct dbcheck_report **ret, struct error *err);

/*
 * The daemon keeps each target's last check run in DIR/checks.json
 * (DBCHECK_SAVED_FILE): {"findings": [{"key": ...}, ...], ...}.  The keys
 * there, for `schemadrift ack TARGET check:GLOB`; -ENOENT without a file.
 */
#define DBCHECK_SAVED_FILE "checks.json"
int dbcheck_saved_keys(const char *dir, char ***ret, size_t *ret_n, struct error *err);

/* A blocking connection as the snapshot reader makes them (application_name,
 * UTF8, keepalives); errors name host, port, dbname and user, never a password. */
int dbcheck_connect(const char *dsn, const char *password, int connect_timeout_ms, PGconn **ret,
		  struct error *err);

#endif
