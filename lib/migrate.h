/* Migration formats: which files a repository holds, in what order, their "up" SQL, and history. */
#ifndef SCHEMADRIFT_MIGRATE_H
#define SCHEMADRIFT_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "error.h"

/*
 * Each format is one row of a table in migrate.c: how its files are named
 * and ordered, how a file's "up" part is cut out, and which history table
 * (if any) says what was applied.
 */
struct migrate_format;

/* One file of the repository, in apply order. */
struct migrate_file {
	char *path;       /* as opened */
	char *name;       /* the file name */
	char *version;    /* as written in the name ("001", "1.2"); NULL: no version */
	bool repeatable;  /* Flyway's R__ files, applied after the versioned ones */
	int32_t checksum; /* Flyway's CRC32 of the file's lines */
	bool applied;     /* after migrate_read_history(): part of the expected schema */
};

/* A finding of the history table: never about the schema itself. */
struct migrate_problem {
	char *what;    /* "dirty", "failed", "missing", "checksum" */
	char *version; /* the migration's version, or NULL */
	char *file;    /* the file concerned, or NULL when it is missing */
	char *message; /* one line */
};

struct migrate_set {
	const struct migrate_format *format;
	char *path;
	struct migrate_file *files;
	size_t n_files;
	/* migrate_read_history(): */
	char *history_table;       /* "public.schema_migrations" when the target has it */
	char *history_schema;      /* its schema, unquoted ("public") */
	struct migrate_problem *problems;
	size_t n_problems;
};

/* The step of one statement to load: its text (NUL-terminated) and first line. */
struct migrate_statement {
	char *text;
	int line;
};

/* The format named NAME (sql, sql-dir, golang-migrate, flyway, goose, dbmate), or NULL. */
const struct migrate_format *migrate_format_find(const char *name);
const char *migrate_format_name(const struct migrate_format *f);
/* The history table a format reads ("schema_migrations"), or NULL. */
const char *migrate_format_history_table(const struct migrate_format *f);
/* "sql, sql-dir, golang-migrate, ..." for messages. */
const char *migrate_format_names(void);

/* Whether path is a snapshot file written by `schemadrift snapshot` (not SQL). */
bool migrate_is_snapshot(const char *path);

/*
 * Lists path's files (format NULL: detected from the names and contents).
 * Every file starts as applied; migrate_read_history() narrows that down.
 */
int migrate_open(const char *path, const struct migrate_format *format, struct migrate_set **ret,
		 struct error *err);
void migrate_set_free(struct migrate_set *s);

/*
 * Reads the format's history table on conn (an idle connection to the
 * target; only SELECTs are sent) and marks the files applied.  Without a
 * history table every file stays applied.  Findings go to s->problems.
 */
int migrate_read_history(struct migrate_set *s, PGconn *conn, struct error *err);

/* The statements of a file's "up" part, each with its line; *ret is malloc'd. */
int migrate_file_statements(const struct migrate_set *s, const struct migrate_file *f,
			    struct migrate_statement **ret, size_t *ret_n, struct error *err);
void migrate_statements_free(struct migrate_statement *st, size_t n);
/* The same from text[0..len) in memory (text NUL-terminated at len); path only names it in errors. */
int migrate_text_statements(const struct migrate_format *fmt, const char *path, const char *text,
			    size_t len, struct migrate_statement **ret, size_t *ret_n,
			    struct error *err);

/* Flyway's checksum: CRC32 over the file's lines without their line ends (BOM dropped). */
int32_t migrate_flyway_checksum(const char *text, size_t len);

#endif
