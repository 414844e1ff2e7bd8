/* Data checks: orphan rows under foreign keys, rows failing NOT VALID CHECK and domain constraints, NULLs under NOT NULL. */
#include "dbcheck_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Each data check reads the catalog once for its list of constraints, then
 * sends one bounded statement per constraint (plus a count with
 * exact_counts), each in its own savepoint: a table the role cannot read, or
 * a statement that times out, is reported and the next constraint runs.
 * Constraints are never validated (VALIDATE CONSTRAINT takes a SHARE UPDATE
 * EXCLUSIVE lock and needs ownership); we only SELECT.
 */

/* Estimated rows of a relation, summed over the leaves of a partitioned one. */
#define RELTUPLES(rel) \
	"CASE WHEN " rel ".relkind = 'p' THEN (SELECT coalesce(sum(greatest(pc.reltuples, 0)), 0)" \
	" FROM pg_catalog.pg_partition_tree(" rel ".oid) pt" \
	" JOIN pg_catalog.pg_class pc ON pc.oid = pt.relid WHERE pt.isleaf)" \
	" ELSE greatest(" rel ".reltuples, 0) END::float8"
#define QNAME(ns, rel) \
	"pg_catalog.quote_ident(" ns ".nspname) || '.' || pg_catalog.quote_ident(" rel ".relname)"
#define USER_SCHEMA(ns) "(" ns ".nspname <> 'information_schema' AND " ns ".nspname !~ '^pg_')"

/* Where a violating row is: its partition for a partitioned table, and its ctid. */
static const char *row_locator(char relkind)
{
	return relkind == 'p' ? "t.tableoid::pg_catalog.regclass AS partition, t.ctid" : "t.ctid";
}

static double num(const PGresult *res, int row, int col)
{
	return strtod(PQgetvalue(res, row, col), NULL);
}

/* Builds "SELECT cols FROM scan WHERE cond LIMIT n" and the exact count, then runs them. */
static int run_violation(struct dbcheck_ctx *c, const char *object, const char *qtable, char relkind,
			 bool only, double reltuples, const char *cols, const char *cond,
			 enum diff_severity severity, const char *what, json_t *details)
{
	char *scan, *full = NULL, *sel = NULL, *cnt = NULL;
	double pct = 0;
	int r = -ENOMEM;

	scan = dbcheck_scan_from(c, qtable, only, reltuples, "t", &pct);
	if (!scan || asprintf(&full, "%s%s t", only ? "ONLY " : "", qtable) < 0)
		goto out;
	if (asprintf(&sel, "SELECT %s, %s FROM %s WHERE %s LIMIT %lld", row_locator(relkind), cols,
		     scan, cond, c->o->sample_rows + 1) < 0) {
		sel = NULL;
		goto out;
	}
	if (asprintf(&cnt, "SELECT count(*) FROM %s WHERE %s", full, cond) < 0) {
		cnt = NULL;
		goto out;
	}
	json_object_set_new(details, "query", json_string(sel));
	r = dbcheck_violations_finding(c, object, sel, cnt, pct, severity, what, details);
	details = NULL;
out:
	json_decref(details);
	free(scan);
	free(full);
	free(sel);
	free(cnt);
	return r;
}

/* ------------------------------------------------------------------ orphans */

/*
 * Foreign keys, NOT VALID ones first (they are the ones that may hide
 * orphans: a valid key's rows were checked when it was added or validated),
 * every other one only with all_constraints.  Per key: the referencing and
 * referenced tables (ONLY for plain tables, as the referential triggers
 * scan), the match type and each column pair with the key's PK = FK operator.
 */
static const char orphans_sql[] =
	"SELECT n.nspname || '.' || r.relname || '.' || c.conname, " QNAME("n", "r") ", r.relkind,"
	" " RELTUPLES("r") ", " QNAME("rn", "rr") ", rr.relkind, c.confmatchtype, c.convalidated,"
	" (SELECT pg_catalog.json_agg(pg_catalog.json_build_array(pg_catalog.quote_ident(fa.attname),"
	"   pg_catalog.quote_ident(pa.attname), 'OPERATOR(' || pg_catalog.quote_ident(opn.nspname)"
	"   || '.' || o.oprname || ')') ORDER BY k.ord)"
	"  FROM ROWS FROM (pg_catalog.unnest(c.conkey), pg_catalog.unnest(c.confkey),"
	"   pg_catalog.unnest(c.conpfeqop)) WITH ORDINALITY AS k(fk, pk, op, ord)"
	"  JOIN pg_catalog.pg_attribute fa ON fa.attrelid = c.conrelid AND fa.attnum = k.fk"
	"  JOIN pg_catalog.pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.pk"
	"  JOIN pg_catalog.pg_operator o ON o.oid = k.op"
	"  JOIN pg_catalog.pg_namespace opn ON opn.oid = o.oprnamespace),"
	" rn.nspname || '.' || rr.relname"
	" FROM pg_catalog.pg_constraint c"
	" JOIN pg_catalog.pg_class r ON r.oid = c.conrelid"
	" JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace"
	" JOIN pg_catalog.pg_class rr ON rr.oid = c.confrelid"
	" JOIN pg_catalog.pg_namespace rn ON rn.oid = rr.relnamespace"
	" WHERE c.contype = 'f' AND c.conparentid = 0 AND " USER_SCHEMA("n") " AND (NOT c.convalidated OR $1)"
	"  AND " DBCHECK_ENFORCED("c")
	" ORDER BY c.convalidated, 1";

static int orphans_fk(struct dbcheck_ctx *c, const PGresult *res, int row)
{
	const char *object = PQgetvalue(res, row, 0), *qchild = PQgetvalue(res, row, 1);
	const char *qparent = PQgetvalue(res, row, 4);
	char relkind = PQgetvalue(res, row, 2)[0], prelkind = PQgetvalue(res, row, 5)[0];
	bool full = PQgetvalue(res, row, 6)[0] == 'f';
	json_error_t je;
	json_t *pairs = json_loads(PQgetvalue(res, row, 8), 0, &je), *pair, *details;
	char *cols = NULL, *join = NULL, *notnull = NULL, *anynull = NULL, *allnull = NULL;
	char *cond = NULL;
	size_t i;
	int r = -ENOMEM;

	if (!json_is_array(pairs))
		goto out;
	json_array_foreach(pairs, i, pair) {
		const char *fc = json_string_value(json_array_get(pair, 0));
		const char *pc = json_string_value(json_array_get(pair, 1));
		const char *op = json_string_value(json_array_get(pair, 2));
		char *n1 = NULL, *n2 = NULL, *n3 = NULL, *n4 = NULL, *n5 = NULL;
		const char *sep = i ? " AND " : "";

		if (asprintf(&n1, "%s%st.%s", cols ? cols : "", i ? ", " : "", fc) < 0 ||
		    asprintf(&n2, "%s%sp.%s %s t.%s", join ? join : "", sep, pc, op, fc) < 0 ||
		    asprintf(&n3, "%s%st.%s IS NOT NULL", notnull ? notnull : "", sep, fc) < 0 ||
		    asprintf(&n4, "%s%st.%s IS NULL", anynull ? anynull : "", i ? " OR " : "", fc) < 0 ||
		    asprintf(&n5, "%s%st.%s IS NULL", allnull ? allnull : "", sep, fc) < 0)
			goto out;
		free(cols);
		free(join);
		free(notnull);
		free(anynull);
		free(allnull);
		cols = n1, join = n2, notnull = n3, anynull = n4, allnull = n5;
	}
	/* MATCH SIMPLE: a NULL in any key column exempts the row.  MATCH FULL:
	 * all NULL is exempt, some NULL is a violation by itself. */
	if (full)
		r = asprintf(&cond, "NOT (%s) AND (%s OR NOT EXISTS (SELECT 1 FROM %s%s p WHERE %s))",
			     allnull, anynull, prelkind == 'p' ? "" : "ONLY ", qparent, join);
	else
		r = asprintf(&cond, "%s AND NOT EXISTS (SELECT 1 FROM %s%s p WHERE %s)", notnull,
			     prelkind == 'p' ? "" : "ONLY ", qparent, join);
	if (r < 0) {
		cond = NULL;
		r = -ENOMEM;
		goto out;
	}
	details = json_pack("{s:s, s:s, s:s, s:b}", "table", qchild, "references", qparent, "match",
			    full ? "FULL" : "SIMPLE", "validated", PQgetvalue(res, row, 7)[0] == 't');
	if (!details)
		goto out;
	r = run_violation(c, object, qchild, relkind, relkind != 'p', num(res, row, 3), cols, cond,
			  PQgetvalue(res, row, 7)[0] == 't' ? DIFF_BREAKING : c->type->severity,
			  full ? "with a partly NULL key or no referenced row (MATCH FULL)"
			       : "without a referenced row", details);
out:
	json_decref(pairs);
	free(cols);
	free(join);
	free(notnull);
	free(anynull);
	free(allnull);
	free(cond);
	return r;
}

static int orphans_run(struct dbcheck_ctx *c)
{
	const char *all = c->o->all_constraints ? "true" : "false";

	return dbcheck_each_row(c, orphans_sql, 1, &all, orphans_fk);
}

const struct dbcheck_type dbcheck_orphans = {
	.name = "orphans",
	.severity = DIFF_WARNING,
	.reads_data = true,
	.run = orphans_run,
};

/* --------------------------------------------------------- check-violations */

/*
 * NOT VALID CHECK constraints, once where they are defined (coninhcount = 0;
 * the scan includes inheriting tables unless NO INHERIT), and NOT VALID
 * domain constraints, per column of that domain type in a table (a
 * partitioned table once, at its root).  pg_get_expr deparses with
 * search_path '' (everything qualified); a domain constraint's VALUE becomes
 * the column.  The test is "(expr) IS FALSE": NULL satisfies a CHECK.
 */
static const char table_checks_sql[] =
	"SELECT n.nspname || '.' || r.relname || '.' || c.conname, " QNAME("n", "r") ", r.relkind,"
	" " RELTUPLES("r") ", c.connoinherit, pg_catalog.pg_get_expr(c.conbin, c.conrelid),"
	" coalesce((SELECT pg_catalog.string_agg('t.' || pg_catalog.quote_ident(a.attname), ', '"
	"   ORDER BY a.attnum) FROM pg_catalog.pg_attribute a"
	"  WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)), 'NULL AS no_column')"
	" FROM pg_catalog.pg_constraint c"
	" JOIN pg_catalog.pg_class r ON r.oid = c.conrelid"
	" JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace"
	" WHERE c.contype = 'c' AND NOT c.convalidated AND c.coninhcount = 0 AND " USER_SCHEMA("n")
	"  AND " DBCHECK_ENFORCED("c")
	" ORDER BY 1";

static const char domain_checks_sql[] =
	"SELECT tn.nspname || '.' || ty.typname || '.' || c.conname || '@' || n.nspname || '.'"
	"  || r.relname || '.' || a.attname, " QNAME("n", "r") ", r.relkind, " RELTUPLES("r") ","
	" pg_catalog.pg_get_expr(c.conbin, 0), pg_catalog.quote_ident(a.attname),"
	" pg_catalog.format_type(ty.oid, NULL)"
	" FROM pg_catalog.pg_constraint c"
	" JOIN pg_catalog.pg_type ty ON ty.oid = c.contypid"
	" JOIN pg_catalog.pg_namespace tn ON tn.oid = ty.typnamespace"
	" JOIN pg_catalog.pg_attribute a ON a.atttypid = c.contypid AND a.attnum > 0"
	"  AND NOT a.attisdropped"
	" JOIN pg_catalog.pg_class r ON r.oid = a.attrelid AND r.relkind IN ('r', 'p')"
	"  AND NOT r.relispartition"
	" JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace"
	" WHERE c.contype = 'c' AND NOT c.convalidated AND c.contypid <> 0 AND " USER_SCHEMA("n")
	"  AND " DBCHECK_ENFORCED("c")
	" ORDER BY 1";

/*
 * Replaces the keyword VALUE (as pg_get_expr prints CoerceToDomainValue)
 * with repl, outside quoted literals and identifiers.  malloc'd.
 */
static char *replace_value(const char *expr, const char *repl)
{
	size_t n = strlen(expr), rl = strlen(repl), o = 0;
	char *out = malloc(n * (rl + 1) + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		char ch = expr[i];

		if (ch == '\'' || ch == '"') {
			bool esc = ch == '\'' && i > 0 && (expr[i - 1] == 'E' || expr[i - 1] == 'e');
			out[o++] = expr[i++];
			while (i < n) {
				if (esc && expr[i] == '\\' && i + 1 < n) {
					out[o++] = expr[i++];
					out[o++] = expr[i++];
					continue;
				}
				if (expr[i] == ch) {
					if (i + 1 < n && expr[i + 1] == ch) { /* doubled quote */
						out[o++] = expr[i++];
						out[o++] = expr[i++];
						continue;
					}
					out[o++] = expr[i++];
					break;
				}
				out[o++] = expr[i++];
			}
			continue;
		}
		bool word_start = i == 0 || !(expr[i - 1] == '_' || expr[i - 1] == '.' ||
					      (expr[i - 1] >= 'a' && expr[i - 1] <= 'z') ||
					      (expr[i - 1] >= 'A' && expr[i - 1] <= 'Z') ||
					      (expr[i - 1] >= '0' && expr[i - 1] <= '9'));
		char after = i + 5 < n ? expr[i + 5] : '\0';
		bool word_end = !(after == '_' || (after >= 'a' && after <= 'z') ||
				  (after >= 'A' && after <= 'Z') || (after >= '0' && after <= '9'));
		if (word_start && word_end && strncmp(expr + i, "VALUE", 5) == 0) {
			memcpy(out + o, repl, rl);
			o += rl;
			i += 5;
			continue;
		}
		out[o++] = expr[i++];
	}
	out[o] = '\0';
	return out;
}

static int table_check(struct dbcheck_ctx *c, const PGresult *res, int row)
{
	char relkind = PQgetvalue(res, row, 2)[0];
	bool only = relkind != 'p' && PQgetvalue(res, row, 4)[0] == 't';
	char *cond = NULL;
	json_t *details;
	int r;

	if (asprintf(&cond, "(%s) IS FALSE", PQgetvalue(res, row, 5)) < 0)
		return -ENOMEM;
	details = json_pack("{s:s, s:s, s:s}", "table", PQgetvalue(res, row, 1), "constraint",
			    "CHECK", "expression", PQgetvalue(res, row, 5));
	r = details ? run_violation(c, PQgetvalue(res, row, 0), PQgetvalue(res, row, 1), relkind,
				    only, num(res, row, 3), PQgetvalue(res, row, 6), cond,
				    c->type->severity, "failing the NOT VALID CHECK constraint", details)
		    : -ENOMEM;
	free(cond);
	return r;
}

static int domain_check(struct dbcheck_ctx *c, const PGresult *res, int row)
{
	char relkind = PQgetvalue(res, row, 2)[0];
	char *col = NULL, *expr = NULL, *cond = NULL;
	json_t *details;
	int r = -ENOMEM;

	if (asprintf(&col, "t.%s", PQgetvalue(res, row, 5)) < 0)
		return -ENOMEM;
	{
		char *paren = NULL;
		if (asprintf(&paren, "(%s)", col) >= 0) {
			expr = replace_value(PQgetvalue(res, row, 4), paren);
			free(paren);
		}
	}
	if (!expr || asprintf(&cond, "(%s) IS FALSE", expr) < 0) {
		cond = NULL;
		goto out;
	}
	details = json_pack("{s:s, s:s, s:s, s:s}", "table", PQgetvalue(res, row, 1), "constraint",
			    "domain CHECK", "domain", PQgetvalue(res, row, 6), "expression",
			    PQgetvalue(res, row, 4));
	if (details)
		r = run_violation(c, PQgetvalue(res, row, 0), PQgetvalue(res, row, 1), relkind,
				  relkind != 'p', num(res, row, 3), col, cond, c->type->severity,
				  "failing the NOT VALID domain constraint", details);
out:
	free(col);
	free(expr);
	free(cond);
	return r;
}

static int violations_run(struct dbcheck_ctx *c)
{
	int r = dbcheck_each_row(c, table_checks_sql, 0, NULL, table_check);

	return r < 0 ? r : dbcheck_each_row(c, domain_checks_sql, 0, NULL, domain_check);
}

const struct dbcheck_type dbcheck_violations = {
	.name = "check-violations",
	.severity = DIFF_WARNING,
	.reads_data = true,
	.run = violations_run,
};

/* ---------------------------------------------------------- null-violations */

/*
 * PostgreSQL 18's NOT NULL NOT VALID constraints (pg_constraint contype 'n'),
 * once where defined; with all_constraints also every valid NOT NULL column
 * of a table (a partitioned one at its root).  The test is num_nulls(col) > 0:
 * a function of the column, which the planner cannot reduce to false the way
 * it drops "col IS NULL" on a column it knows to be NOT NULL.
 */
static const char notnull_pg18_sql[] =
	"SELECT n.nspname || '.' || r.relname || '.' || a.attname, " QNAME("n", "r") ", r.relkind,"
	" " RELTUPLES("r") ", pg_catalog.quote_ident(a.attname), c.convalidated, c.conname"
	" FROM pg_catalog.pg_constraint c"
	" JOIN pg_catalog.pg_class r ON r.oid = c.conrelid"
	" JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace"
	" JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
	" WHERE c.contype = 'n' AND c.coninhcount = 0 AND r.relkind IN ('r', 'p')"
	"  AND NOT r.relispartition AND " USER_SCHEMA("n") " AND (NOT c.convalidated OR $1)"
	" ORDER BY c.convalidated, 1";

static const char notnull_old_sql[] =
	"SELECT n.nspname || '.' || r.relname || '.' || a.attname, " QNAME("n", "r") ", r.relkind,"
	" " RELTUPLES("r") ", pg_catalog.quote_ident(a.attname), true, NULL"
	" FROM pg_catalog.pg_attribute a"
	" JOIN pg_catalog.pg_class r ON r.oid = a.attrelid"
	" JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace"
	" WHERE a.attnotnull AND a.attnum > 0 AND NOT a.attisdropped AND $1"
	"  AND r.relkind IN ('r', 'p') AND NOT r.relispartition AND " USER_SCHEMA("n")
	" ORDER BY 1";

static int null_row(struct dbcheck_ctx *c, const PGresult *res, int i)
{
	char relkind = PQgetvalue(res, i, 2)[0];
	bool valid = PQgetvalue(res, i, 5)[0] == 't';
	char *col = NULL, *cond = NULL;
	json_t *details;
	int r = -ENOMEM;

	if (asprintf(&col, "t.%s", PQgetvalue(res, i, 4)) < 0)
		return -ENOMEM;
	if (asprintf(&cond, "pg_catalog.num_nulls(%s) > 0", col) < 0) {
		free(col);
		return -ENOMEM;
	}
	details = json_pack("{s:s, s:s, s:b}", "table", PQgetvalue(res, i, 1), "column",
			    PQgetvalue(res, i, 4), "validated", valid);
	if (details && !PQgetisnull(res, i, 6))
		json_object_set_new(details, "constraint", json_string(PQgetvalue(res, i, 6)));
	if (details)
		r = run_violation(c, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), relkind,
				  relkind != 'p', num(res, i, 3), col, cond,
				  valid ? DIFF_BREAKING : c->type->severity,
				  valid ? "with NULL in a NOT NULL column"
					: "with NULL under the NOT VALID NOT NULL constraint", details);
	free(col);
	free(cond);
	return r;
}

static int null_run(struct dbcheck_ctx *c)
{
	const char *all = c->o->all_constraints ? "true" : "false";

	if (c->server_version < 180000 && !c->o->all_constraints)
		dbcheck_note(c, "NOT NULL NOT VALID needs PostgreSQL 18; valid NOT NULL columns are "
			     "checked only when asked (all constraints)");
	return dbcheck_each_row(c, c->server_version >= 180000 ? notnull_pg18_sql : notnull_old_sql,
				1, &all, null_row);
}

const struct dbcheck_type dbcheck_null_violations = {
	.name = "null-violations",
	.severity = DIFF_WARNING,
	.reads_data = true,
	.run = null_run,
};
