/* The fk-index check: foreign keys whose referencing side no index covers, with the CREATE INDEX that fixes each. */
#include "dbcheck_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * One set-based query, whatever the number of foreign keys (docs/checks.md,
 * "fk-index").  An index covers a foreign key when it is valid, ready and
 * live; its first n key columns are the key's n columns in any order
 * (expressions and INCLUDE columns do not count: indkey[p] = 0 matches no
 * attribute and p < n <= indnkeyatts); it is a btree, or a hash on one
 * column; its predicate is absent or a conjunction of "col IS NOT NULL" on key
 * columns (such rows are exactly the ones a referenced row can match); each
 * column's operator family holds the key's equality operator (conpfeqop, the
 * one the referential trigger's "WHERE $1 = col" uses) and its collation is
 * the column's.  Columns of different indexes never combine: each index is
 * judged alone.  A partitioned table is judged once, at the parent (clones on
 * partitions have conparentid <> 0): covered by such an index on the parent,
 * or on every leaf partition (foreign leaves hold no index and are skipped).
 * Sizes need no privilege (pg_relation_size) and no scan.
 */
static const char fk_index_sql[] =
	"WITH fk AS ("
	" SELECT c.oid, c.conname, c.conrelid, c.confrelid, c.conkey, c.conpfeqop,"
	"  c.confdeltype, c.confupdtype, c.confmatchtype, c.convalidated, r.relkind,"
	"  n.nspname, r.relname"
	" FROM pg_catalog.pg_constraint c"
	" JOIN pg_catalog.pg_class r ON r.oid = c.conrelid"
	" JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace"
	" WHERE c.contype = 'f' AND c.conparentid = 0 AND " DBCHECK_ENFORCED("c")
	"  AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"
	"  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"
	"   WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = r.oid"
	"    AND d.deptype = 'e')"
	"), fkcol AS ("
	" SELECT fk.oid AS conoid, k.ord, a.attname, a.attcollation, k.eqop"
	" FROM fk CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(fk.conkey),"
	"  pg_catalog.unnest(fk.conpfeqop)) WITH ORDINALITY AS k(attnum, eqop, ord)"
	" JOIN pg_catalog.pg_attribute a ON a.attrelid = fk.conrelid AND a.attnum = k.attnum"
	"), fkn AS ("
	" SELECT conoid, count(*)::int AS n,"
	"  pg_catalog.array_agg('(' || pg_catalog.quote_ident(attname) || ' IS NOT NULL)') AS notnull"
	" FROM fkcol GROUP BY conoid"
	"), holder AS ("
	" SELECT fk.oid AS conoid, fk.conrelid AS relid, false AS leaf FROM fk"
	" UNION ALL"
	" SELECT fk.oid, t.relid, true"
	" FROM fk CROSS JOIN LATERAL pg_catalog.pg_partition_tree(fk.conrelid) t"
	" JOIN pg_catalog.pg_class lc ON lc.oid = t.relid"
	" WHERE fk.relkind = 'p' AND t.isleaf AND lc.relkind <> 'f'"
	"), covered AS ("
	" SELECT h.conoid, h.relid, h.leaf, pg_catalog.min(ic.relname::text) AS index_name"
	" FROM holder h JOIN fkn ON fkn.conoid = h.conoid"
	" JOIN pg_catalog.pg_index i ON i.indrelid = h.relid"
	" JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid"
	" JOIN pg_catalog.pg_am am ON am.oid = ic.relam"
	" CROSS JOIN LATERAL (SELECT pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS pred) ip"
	" WHERE i.indisvalid AND i.indisready AND i.indislive"
	"  AND (am.amname = 'btree' OR (am.amname = 'hash' AND fkn.n = 1))"
	"  AND i.indnkeyatts >= fkn.n"
	"  AND (SELECT count(DISTINCT f.attname)"
	"   FROM pg_catalog.generate_series(0, fkn.n - 1) p"
	"   JOIN pg_catalog.pg_attribute ia ON ia.attrelid = h.relid AND ia.attnum = i.indkey[p]"
	"   JOIN fkcol f ON f.conoid = h.conoid AND f.attname = ia.attname"
	"   JOIN pg_catalog.pg_opclass oc ON oc.oid = i.indclass[p]"
	"   WHERE i.indcollation[p] = f.attcollation"
	"    AND EXISTS (SELECT 1 FROM pg_catalog.pg_amop ao WHERE ao.amopfamily = oc.opcfamily"
	"     AND ao.amopopr = f.eqop AND ao.amoppurpose = 's')) = fkn.n"
	"  AND (ip.pred IS NULL OR ip.pred = ANY (fkn.notnull) OR"
	"   (SELECT pg_catalog.bool_and(term = ANY (fkn.notnull))"
	"    FROM pg_catalog.unnest(pg_catalog.string_to_array("
	"     pg_catalog.substr(ip.pred, 2, pg_catalog.length(ip.pred) - 2), ' AND ')) term))"
	" GROUP BY h.conoid, h.relid, h.leaf"
	")"
	" SELECT fk.nspname, fk.relname, fk.conname, rn.nspname, rr.relname,"
	"  (SELECT pg_catalog.json_agg(f.attname ORDER BY f.ord) FROM fkcol f"
	"   WHERE f.conoid = fk.oid) AS cols,"
	"  (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(f.attname), ', ' ORDER BY f.ord)"
	"   FROM fkcol f WHERE f.conoid = fk.oid) AS quoted_cols,"
	"  pg_catalog.quote_ident(fk.nspname) || '.' || pg_catalog.quote_ident(fk.relname),"
	"  fk.relkind, fk.confdeltype, fk.confupdtype, fk.confmatchtype, fk.convalidated,"
	"  sz.bytes, sz.rows,"
	"  (SELECT count(*) FROM holder h WHERE h.conoid = fk.oid AND h.leaf) AS leaves,"
	"  (SELECT count(*) FROM covered cv WHERE cv.conoid = fk.oid AND cv.leaf) AS leaves_covered,"
	"  CASE WHEN fk.relkind = 'p' THEN (SELECT pg_catalog.json_agg(pg_catalog.json_build_object("
	"    'table', pg_catalog.quote_ident(pn.nspname) || '.' || pg_catalog.quote_ident(pc.relname),"
	"    'schema', pn.nspname, 'name', pc.relname,"
	"    'parent', pg_catalog.quote_ident(qn.nspname) || '.' || pg_catalog.quote_ident(qc.relname),"
	"    'parent_schema', pg_catalog.quote_ident(qn.nspname), 'parent_name', qc.relname,"
	"    'leaf', t.isleaf, 'schema_sql', pg_catalog.quote_ident(pn.nspname),"
	"    'covered', EXISTS (SELECT 1 FROM covered cv WHERE cv.conoid = fk.oid AND cv.relid = t.relid))"
	"    ORDER BY t.level, pn.nspname, pc.relname)"
	"   FROM pg_catalog.pg_partition_tree(fk.conrelid) t"
	"   JOIN pg_catalog.pg_class pc ON pc.oid = t.relid"
	"   JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace"
	"   JOIN pg_catalog.pg_class qc ON qc.oid = t.parentrelid"
	"   JOIN pg_catalog.pg_namespace qn ON qn.oid = qc.relnamespace"
	"   WHERE t.level > 0 AND pc.relkind <> 'f') END"
	" FROM fk"
	" JOIN pg_catalog.pg_class rr ON rr.oid = fk.confrelid"
	" JOIN pg_catalog.pg_namespace rn ON rn.oid = rr.relnamespace"
	" CROSS JOIN LATERAL (SELECT coalesce(sum(pg_catalog.pg_relation_size(h.relid)), 0)::bigint"
	"   AS bytes, coalesce(sum(greatest(hc.reltuples, 0)), 0)::float8 AS rows"
	"  FROM holder h JOIN pg_catalog.pg_class hc ON hc.oid = h.relid"
	"  WHERE h.conoid = fk.oid AND (h.leaf OR fk.relkind <> 'p')) sz"
	" WHERE NOT EXISTS (SELECT 1 FROM covered cv WHERE cv.conoid = fk.oid AND NOT cv.leaf)"
	"  AND NOT (fk.relkind = 'p'"
	"   AND (SELECT count(*) FROM holder h WHERE h.conoid = fk.oid AND h.leaf) > 0"
	"   AND (SELECT count(*) FROM holder h WHERE h.conoid = fk.oid AND h.leaf) ="
	"    (SELECT count(*) FROM covered cv WHERE cv.conoid = fk.oid AND cv.leaf))"
	" ORDER BY 1, 2, 3";

enum {
	COL_SCHEMA, COL_TABLE, COL_FK, COL_REF_SCHEMA, COL_REF_TABLE, COL_COLS, COL_QCOLS,
	COL_QTABLE, COL_RELKIND, COL_DEL, COL_UPD, COL_MATCH, COL_VALID, COL_BYTES, COL_ROWS,
	COL_LEAVES, COL_LEAVES_COVERED, COL_TREE,
};

#define NAME_MAX_BYTES 63 /* NAMEDATALEN - 1 */

static const char *action_name(char a)
{
	switch (a) {
	case 'r':
		return "RESTRICT";
	case 'c':
		return "CASCADE";
	case 'n':
		return "SET NULL";
	case 'd':
		return "SET DEFAULT";
	default:
		return "NO ACTION";
	}
}

/* A referential action that writes to the referencing table for every parent row changed. */
static bool writes_child(char a)
{
	return a == 'c' || a == 'n' || a == 'd';
}

/* Severity grows with the referencing table's size: every delete or key
 * update on the parent scans it; actions that write to it make it worse. */
static enum diff_severity fk_severity(long long bytes, char del, char upd)
{
	int s = bytes < (1LL << 20) ? DIFF_INFO : bytes < (1LL << 30) ? DIFF_WARNING : DIFF_BREAKING;

	if ((writes_child(del) || writes_child(upd)) && s < DIFF_BREAKING)
		s++;
	return (enum diff_severity)s;
}

/* Keeps at most max bytes of s without cutting a UTF-8 sequence. */
static size_t utf8_prefix(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/*
 * "<table>_<col>_<col>_idx", at most 63 bytes: a longer one keeps a prefix and
 * adds 8 hex digits of a hash of the whole, so two long names stay apart.
 */
static void index_name(const char *table, json_t *cols, char out[NAME_MAX_BYTES + 1])
{
	char full[1024];
	size_t o = 0, i;
	json_t *c;

	o = (size_t)snprintf(full, sizeof(full), "%s", table);
	json_array_foreach(cols, i, c) {
		if (o < sizeof(full))
			o += (size_t)snprintf(full + o, sizeof(full) - o, "_%s", json_string_value(c));
	}
	if (o >= sizeof(full))
		o = sizeof(full) - 1;
	if (o + 4 <= NAME_MAX_BYTES) {
		snprintf(out, NAME_MAX_BYTES + 1, "%s_idx", full);
		return;
	}
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t k = 0; k < o; k++)
		h = (h ^ (unsigned char)full[k]) * 16777619u;
	size_t keep = utf8_prefix(full, NAME_MAX_BYTES - 4 - 9);
	snprintf(out, NAME_MAX_BYTES + 1, "%.*s_%08x_idx", (int)keep, full, (unsigned)h);
}

/* An identifier as SQL needs it; generated names end in _idx, never a keyword. */
static void name_sql(const char *name, char *out, size_t size)
{
	bool plain = (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_';

	for (const char *p = name; plain && *p; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
	if (plain) {
		snprintf(out, size, "%s", name);
		return;
	}
	char *q = dbcheck_quote_ident(name);
	snprintf(out, size, "%s", q ? q : name);
	free(q);
}

/* Appends to a growing string. */
static int add(char **buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add(char **buf, const char *fmt, ...)
{
	va_list ap;
	char *piece = NULL, *joined = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&piece, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	r = asprintf(&joined, "%s%s", *buf ? *buf : "", piece);
	free(piece);
	if (r < 0)
		return -ENOMEM;
	free(*buf);
	*buf = joined;
	return 0;
}

/*
 * For a partitioned table: the index ON ONLY each partitioned level (cheap:
 * no data), each leaf's built CONCURRENTLY (no lock that blocks writes), each
 * attached to its parent's; the parent's index becomes valid with the last.
 */
static int partitioned_fix(const char *table, const char *qtable, json_t *cols,
			   const char *qcols, json_t *tree, char **ret)
{
	char name[NAME_MAX_BYTES + 1], qname[200];
	char *fix = NULL;
	size_t i;
	json_t *node;
	int r;

	index_name(table, cols, name);
	name_sql(name, qname, sizeof(qname));
	r = add(&fix, "CREATE INDEX IF NOT EXISTS %s ON ONLY %s (%s);\n", qname, qtable, qcols);
	json_array_foreach(tree, i, node) {
		const char *t = json_string_value(json_object_get(node, "table"));
		const char *n = json_string_value(json_object_get(node, "name"));
		const char *ps = json_string_value(json_object_get(node, "parent_schema"));
		const char *pn = json_string_value(json_object_get(node, "parent_name"));
		const char *s = json_string_value(json_object_get(node, "schema_sql"));
		bool leaf = json_is_true(json_object_get(node, "leaf"));
		char lname[NAME_MAX_BYTES + 1], qlname[200], pname[NAME_MAX_BYTES + 1], qp[200];
		char *qs = s ? strdup(s) : NULL, *qps = ps ? strdup(ps) : NULL;

		if (r < 0 || !t || !n || !ps || !pn || !s || !qs || !qps) {
			free(qs);
			free(qps);
			free(fix);
			return -ENOMEM;
		}
		index_name(n, cols, lname);
		name_sql(lname, qlname, sizeof(qlname));
		index_name(pn, cols, pname);
		name_sql(pname, qp, sizeof(qp));
		r = add(&fix, leaf ? "CREATE INDEX CONCURRENTLY IF NOT EXISTS %s ON %s (%s);\n"
				   : "CREATE INDEX IF NOT EXISTS %s ON ONLY %s (%s);\n",
			qlname, t, qcols);
		if (r == 0)
			r = add(&fix, "ALTER INDEX %s.%s ATTACH PARTITION %s.%s;\n", qps, qp, qs, qlname);
		free(qs);
		free(qps);
	}
	if (r < 0) {
		free(fix);
		return -ENOMEM;
	}
	*ret = fix;
	return 0;
}

static int fk_row(struct dbcheck_ctx *c, const PGresult *res, int row)
{
	const char *schema = PQgetvalue(res, row, COL_SCHEMA), *table = PQgetvalue(res, row, COL_TABLE);
	const char *fk = PQgetvalue(res, row, COL_FK);
	const char *qcols = PQgetvalue(res, row, COL_QCOLS), *qtable = PQgetvalue(res, row, COL_QTABLE);
	char del = PQgetvalue(res, row, COL_DEL)[0], upd = PQgetvalue(res, row, COL_UPD)[0];
	bool partitioned = PQgetvalue(res, row, COL_RELKIND)[0] == 'p';
	long long bytes = strtoll(PQgetvalue(res, row, COL_BYTES), NULL, 10);
	double rows = strtod(PQgetvalue(res, row, COL_ROWS), NULL);
	long long leaves = strtoll(PQgetvalue(res, row, COL_LEAVES), NULL, 10);
	long long leaves_covered = strtoll(PQgetvalue(res, row, COL_LEAVES_COVERED), NULL, 10);
	char object[1024], ref[600], collist[600], name[NAME_MAX_BYTES + 1], qname[200];
	char *fix = NULL, *msg = NULL;
	json_t *cols = NULL, *details, *tree = NULL;
	json_error_t je;
	int r;

	cols = json_loads(PQgetvalue(res, row, COL_COLS), 0, &je);
	if (!json_is_array(cols)) {
		json_decref(cols);
		return -ENOMEM;
	}
	snprintf(object, sizeof(object), "%s.%s.%s", schema, table, fk);
	snprintf(ref, sizeof(ref), "%s.%s", PQgetvalue(res, row, COL_REF_SCHEMA),
		 PQgetvalue(res, row, COL_REF_TABLE));
	snprintf(collist, sizeof(collist), "%s", qcols);
	if (partitioned && !PQgetisnull(res, row, COL_TREE))
		tree = json_loads(PQgetvalue(res, row, COL_TREE), 0, &je);
	if (partitioned && !tree)
		tree = json_array(); /* no partitions yet */
	if (partitioned) {
		r = tree ? partitioned_fix(table, qtable, cols, qcols, tree, &fix) : -ENOMEM;
	} else {
		index_name(table, cols, name);
		name_sql(name, qname, sizeof(qname));
		r = asprintf(&fix, "CREATE INDEX CONCURRENTLY IF NOT EXISTS %s ON %s (%s);\n", qname,
			     qtable, qcols) < 0 ? -ENOMEM : 0;
	}
	if (r < 0) {
		json_decref(cols);
		json_decref(tree);
		return r;
	}
	details = json_pack("{s:s, s:o, s:s, s:O, s:s, s:s, s:s, s:s, s:b, s:I, s:f, s:b}",
			    "foreign_key", fk, "table", json_sprintf("%s.%s", schema, table),
			    "references", ref, "columns", cols, "on_delete", action_name(del),
			    "on_update", action_name(upd), "match",
			    PQgetvalue(res, row, COL_MATCH)[0] == 'f' ? "FULL" : "SIMPLE",
			    "child_table", qtable, "validated",
			    PQgetvalue(res, row, COL_VALID)[0] == 't', "table_bytes",
			    (json_int_t)bytes, "table_rows", rows, "partitioned", partitioned);
	if (details) {
		if (partitioned) {
			json_t *missing = json_array();
			size_t i;
			json_t *node;
			json_array_foreach(tree, i, node)
				if (json_is_true(json_object_get(node, "leaf")) &&
				    !json_is_true(json_object_get(node, "covered")))
					json_array_append(missing, json_object_get(node, "table"));
			json_object_set_new(details, "partitions",
					    json_pack("{s:I, s:I, s:o}", "leaves", (json_int_t)leaves,
						      "covered", (json_int_t)leaves_covered, "missing",
						      missing));
		}
	}
	json_decref(tree);
	json_decref(cols); /* details holds its own reference */
	{
		char size[64];
		if (bytes >= (1LL << 30))
			snprintf(size, sizeof(size), "%.1f GiB", (double)bytes / (1LL << 30));
		else if (bytes >= (1LL << 20))
			snprintf(size, sizeof(size), "%.1f MiB", (double)bytes / (1LL << 20));
		else
			snprintf(size, sizeof(size), "%lld kB", bytes / 1024);
		char extra[160] = "";
		if (partitioned)
			snprintf(extra, sizeof(extra), "; %lld of %lld partitions covered",
				 leaves_covered, leaves);
		r = asprintf(&msg, "foreign key %s on %s.%s (%s) referencing %s has no covering index "
			     "(%s, ~%.0f rows; ON DELETE %s, ON UPDATE %s%s)", fk, schema, table,
			     collist, ref, size, rows, action_name(del), action_name(upd), extra);
	}
	if (r < 0 || !details) {
		free(fix);
		json_decref(details);
		return -ENOMEM;
	}
	r = dbcheck_add_finding(c, fk_severity(bytes, del, upd), object, msg, fix, details);
	free(msg);
	free(fix);
	return r;
}

static int fk_index_run(struct dbcheck_ctx *c)
{
	return dbcheck_each_row(c, fk_index_sql, 0, NULL, fk_row);
}

const struct dbcheck_type dbcheck_fk_index = {
	.name = "fk-index",
	.severity = DIFF_WARNING,
	.reads_data = false,
	.run = fk_index_run,
};
