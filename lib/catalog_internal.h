/* Shared pieces of the catalog reader's query families (catalog_*.c); not a public API. */
#ifndef SCHEMADRIFT_CATALOG_INTERNAL_H
#define SCHEMADRIFT_CATALOG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "model.h"

/* What a reader needs to know besides the rows. */
struct catalog_ctx {
	int version; /* server_version_num */
	bool partitions_full;
};

/* One set-based query and the code that turns its rows into objects. */
struct catalog_query {
	const char *what; /* names the query in errors */
	const char *(*sql)(int server_version);
	int (*read)(struct model *m, PGresult *res, const struct catalog_ctx *ctx);
};

/*
 * Every query excludes system schemas with the same predicate on the
 * namespace alias `n`, and objects that belong to an extension (those are
 * reported as the extension).  Temporary schemas are session-private noise.
 */
#define CATALOG_USER_SCHEMA \
	"n.nspname <> 'information_schema' AND n.nspname !~ '^pg_(catalog$|toast|temp_)'"
#define CATALOG_NOT_EXTENSION(cls, oid) \
	" NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = '" cls "'::regclass" \
	" AND e.objid = " oid " AND e.deptype = 'e') "
#define CATALOG_QUALIFIED(nsp, rel) \
	"quote_ident(" nsp ".nspname) || '.' || quote_ident(" rel ".relname)"
/* The comment on an object: LEFT JOIN pg_description AS alias. */
#define CATALOG_COMMENT_JOIN(alias, cls, oid, sub) \
	" LEFT JOIN pg_description " alias " ON " alias ".objoid = " oid " AND " alias \
	".classoid = '" cls "'::regclass AND " alias ".objsubid = " sub " "

/*
 * A query's result columns, read by name: each reader declares the names
 * its SELECT gives (AS ...) with CATALOG_COLUMNS and looks them up once per
 * result, as pg_dump's getTables() does, so a SELECT that differs by server
 * version cannot shift what a position means.
 *
 *   #define REL_COLUMNS(X, T) X(T, nspname) X(T, relname)
 *   CATALOG_COLUMNS(rel_cols, REL_COLUMNS);
 *   struct rel_cols c;
 *   if ((r = CATALOG_FIND(res, rel_cols, &c)) < 0) return r;
 *   ... catalog_val(res, i, c.relname) ...
 */
struct catalog_column {
	const char *name;
	size_t offset; /* of its int in the struct of column numbers */
};
#define CATALOG_COLUMN_FIELD(type, name) int name;
#define CATALOG_COLUMN_ENTRY(type, name) { #name, offsetof(struct type, name) },
#define CATALOG_COLUMNS(type, LIST) \
	struct type { LIST(CATALOG_COLUMN_FIELD, type) }; \
	static const struct catalog_column type##_columns[] = { LIST(CATALOG_COLUMN_ENTRY, type) }
#define CATALOG_FIND(res, type, ret) \
	catalog_find_columns(res, type##_columns, \
			     sizeof(type##_columns) / sizeof(type##_columns[0]), ret)

/* Fills the column numbers at each entry's offset in ret; -EPROTO when a name is missing. */
int catalog_find_columns(PGresult *res, const struct catalog_column *cols, size_t n, void *ret);

const char *catalog_val(PGresult *res, int row, int col);
bool catalog_val_bool(PGresult *res, int row, int col);
long long catalog_val_int(PGresult *res, int row, int col);

/*
 * Sets attr to the items of a text[] in PostgreSQL's output syntax; when
 * as_set, items are sorted bytewise (privileges, roles: order is noise).
 * NULL text leaves the attribute absent.
 */
int catalog_set_array(struct model *m, const char *attr, const char *text, bool as_set);

/* tgenabled, ev_enabled, evtenabled: "origin" (O, the default), "disabled" (D),
 * "replica" (R), "always" (A); NULL for NULL. */
const char *catalog_enabled(const char *code);

/* model_end() after the attributes; also reports a failed array parse. */
int catalog_end(struct model *m, int r);

/*
 * The DDL recorder (catalog_recorder.c): catalog_recorder_detect is appended
 * to the setup statement's select list (recorder_schema, recorder_readable);
 * when it finds one, catalog_recorder_found() puts it on the model and
 * catalog_recorder_sql() is the one statement more that reads its rows
 * (newest first, from since when it is an ISO time), turned into events by
 * catalog_recorder_read().  catalog_recorder_exclude() drops its objects.
 */
extern const char catalog_recorder_detect[];
int catalog_recorder_found(struct model *m, const char *schema, bool readable);
int catalog_recorder_sql(PGconn *conn, const char *schema, const char *since, char **ret);
int catalog_recorder_read(struct model *m, PGresult *res);
int catalog_recorder_exclude(struct model *m);

extern const struct catalog_query catalog_schemas, catalog_relations, catalog_sequences,
	catalog_columns, catalog_constraints, catalog_indexes, catalog_routines, catalog_types,
	catalog_triggers, catalog_rules, catalog_policies, catalog_extensions, catalog_misc,
	catalog_probe;

#endif
