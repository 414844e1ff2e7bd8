/* Checks: the vtable each check implements and the helpers they share (check.c). */
#ifndef SCHEMADRIFT_DBCHECK_INTERNAL_H
#define SCHEMADRIFT_DBCHECK_INTERNAL_H

#include "dbcheck.h"

/* PostgreSQL 18's NOT ENFORCED constraints (conenforced false) promise nothing and have no
 * triggers: left out.  Through to_jsonb so the one query text works on every version. */
#define DBCHECK_ENFORCED(c) \
	"coalesce((pg_catalog.to_jsonb(" c ") ->> 'conenforced')::bool, true)"

/* The state of one check while it runs. */
struct dbcheck_ctx {
	const struct dbcheck_type *type;
	PGconn *conn;
	const struct dbcheck_options *o; /* defaults resolved */
	struct dbcheck_report *report;
	struct dbcheck_result *result;   /* the running check's */
	const struct dbcheck_custom *custom; /* custom checks only */
	int server_version;
	struct error lost;             /* why the connection went away, when it did */
};

/*
 * A check: its name, the severity of its findings unless a finding is worse
 * (fk-index grades by size instead), whether it reads user tables (data
 * checks are bounded and sampled; the report says which did) and run,
 * which adds findings through dbcheck_add_finding().  run returns 0, or a
 * negative code when the connection is lost (c->lost says why) or memory ran
 * out: a statement that fails is reported through dbcheck_data_failed().
 */
struct dbcheck_type {
	const char *name;
	enum diff_severity severity;
	bool reads_data;
	int (*run)(struct dbcheck_ctx *c);
};

extern const struct dbcheck_type dbcheck_fk_index;      /* dbcheck_fkindex.c */
extern const struct dbcheck_type dbcheck_orphans;       /* dbcheck_integrity.c */
extern const struct dbcheck_type dbcheck_violations;
extern const struct dbcheck_type dbcheck_null_violations;
extern const struct dbcheck_type dbcheck_custom_type;   /* check.c */

/*
 * Runs one statement inside a savepoint and returns its result (*ret, for the
 * caller to PQclear).  -ETIMEDOUT for statement_timeout or lock_timeout,
 * -EACCES for missing privileges, -EIO otherwise; err holds the server's
 * message and SQLSTATE.  -ECONNRESET when the connection is gone.
 */
int dbcheck_query(struct dbcheck_ctx *c, const char *sql, int n_params, const char *const *params,
		PGresult **ret, struct error *err);

/*
 * Records a failed data statement about object: a table the role cannot
 * read is a note (the check goes on), a timeout or failure marks the check.
 * Returns 0 to carry on with the next object, or the code when the
 * connection is gone.
 */
int dbcheck_data_failed(struct dbcheck_ctx *c, int code, const struct error *err, const char *object);

/*
 * The usual shape of a check: one catalog query (its failure is the check's,
 * not the run's: see dbcheck_data_failed), then fn for each row until one
 * returns nonzero.  Returns 0, or a negative code when the connection is gone
 * or memory ran out.
 */
typedef int (*dbcheck_row_fn)(struct dbcheck_ctx *c, const PGresult *res, int row);
int dbcheck_each_row(struct dbcheck_ctx *c, const char *sql, int n_params,
		     const char *const *params, dbcheck_row_fn fn);

/* Adds a finding of the running check; takes over details (may be NULL). */
int dbcheck_add_finding(struct dbcheck_ctx *c, enum diff_severity severity, const char *object,
		      const char *message, const char *fix, json_t *details);
/* Appends a note to the running check's result. */
void dbcheck_note(struct dbcheck_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The FROM item for scanning table (quoted, qualified) estimated at reltuples
 * rows: "ONLY? table alias", with TABLESAMPLE SYSTEM (p) REPEATABLE (0) when
 * it is larger than sample_above (then also a note, and *ret_percent > 0).
 * malloc'd; NULL on ENOMEM.
 */
char *dbcheck_scan_from(struct dbcheck_ctx *c, const char *table, bool only, double reltuples,
		      const char *alias, double *ret_percent);

/*
 * The standard data-check flow: runs select_sql (returns violating rows,
 * LIMIT sample_rows + 1 already in it) and, with exact_counts, count_sql;
 * then adds one finding on object when a row was found, with the rows (every
 * column as text) and counts in details.  Takes over details.
 */
int dbcheck_violations_finding(struct dbcheck_ctx *c, const char *object, const char *select_sql,
			     const char *count_sql, double sample_percent,
			     enum diff_severity severity, const char *what, json_t *details);

/* Quotes an identifier as SQL needs it ("a""b"); malloc'd. */
char *dbcheck_quote_ident(const char *name);

#endif
