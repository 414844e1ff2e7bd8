/* Catalog queries for schemas, tables, views, sequences and their columns, constraints, indexes. */
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"

#define OWNER_ACL_COMMENT(owner, acl, kind) \
	" pg_get_userbyid(" owner "), coalesce(" acl ", acldefault('" kind "', " owner ")),"

/* ---- schemas ---- */

static const char *sql_schemas(int v)
{
	(void)v;
	return "SELECT n.nspname," OWNER_ACL_COMMENT("n.nspowner", "n.nspacl", "n")
	       " d.description FROM pg_namespace n"
	       CATALOG_COMMENT_JOIN("d", "pg_namespace", "n.oid", "0")
	       " WHERE " CATALOG_USER_SCHEMA
	       " AND" CATALOG_NOT_EXTENSION("pg_namespace", "n.oid");
}

static int read_schemas(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	(void)ctx;
	for (int i = 0; i < PQntuples(res); i++) {
		int r;

		model_begin(m, MODEL_SCHEMA, NULL, NULL, catalog_val(res, i, 0), NULL);
		model_set_str(m, "owner", catalog_val(res, i, 1));
		r = catalog_set_array(m, "acl", catalog_val(res, i, 2), true);
		model_set_str(m, "comment", catalog_val(res, i, 3));
		if ((r = catalog_end(m, r)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_schemas = { "schemas", sql_schemas, read_schemas };

/* ---- tables, foreign tables, views, materialized views ---- */

static const char *sql_relations(int v)
{
	(void)v;
	return "SELECT n.nspname, c.relname, c.relkind, c.relpersistence = 'u',"
	       " CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,"
	       " CASE WHEN c.relispartition THEN"
	       "  (SELECT " CATALOG_QUALIFIED("pn", "p") " FROM pg_inherits i"
	       "   JOIN pg_class p ON p.oid = i.inhparent"
	       "   JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) END,"
	       " CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,"
	       " CASE WHEN NOT c.relispartition THEN"
	       "  (SELECT array_agg(" CATALOG_QUALIFIED("pn", "p") " ORDER BY i.inhseqno)"
	       "   FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent"
	       "   JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) END,"
	       " CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,"
	       " c.relrowsecurity, c.relforcerowsecurity, c.reloptions, ts.spcname, am.amname,"
	       " c.relreplident," OWNER_ACL_COMMENT("c.relowner", "c.relacl", "r")
	       " d.description, fs.srvname, ft.ftoptions"
	       " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	       " LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace"
	       " LEFT JOIN pg_am am ON am.oid = c.relam"
	       " LEFT JOIN pg_foreign_table ft ON ft.ftrelid = c.oid"
	       " LEFT JOIN pg_foreign_server fs ON fs.oid = ft.ftserver"
	       CATALOG_COMMENT_JOIN("d", "pg_class", "c.oid", "0")
	       " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND " CATALOG_USER_SCHEMA
	       " AND" CATALOG_NOT_EXTENSION("pg_class", "c.oid");
}

static const char *replica_identity(const char *code)
{
	switch (code ? code[0] : 0) {
	case 'd': return "default";
	case 'n': return "nothing";
	case 'f': return "full";
	case 'i': return "index";
	}
	return NULL;
}

static int read_relations(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	(void)ctx;
	for (int i = 0; i < PQntuples(res); i++) {
		char relkind = catalog_val(res, i, 2)[0];
		enum model_kind kind = relkind == 'v' ? MODEL_VIEW
				     : relkind == 'm' ? MODEL_MATERIALIZED_VIEW
				     : relkind == 'f' ? MODEL_FOREIGN_TABLE
						      : MODEL_TABLE;
		int r = 0;

		model_begin(m, kind, catalog_val(res, i, 0), NULL, catalog_val(res, i, 1), NULL);
		switch (kind) {
		case MODEL_TABLE:
			model_set_bool(m, "unlogged", catalog_val_bool(res, i, 3));
			model_set_str(m, "partition_key", catalog_val(res, i, 4));
			model_set_bool(m, "row_security", catalog_val_bool(res, i, 9));
			model_set_bool(m, "force_row_security", catalog_val_bool(res, i, 10));
			model_set_str(m, "access_method", catalog_val(res, i, 13));
			model_set_str(m, "replica_identity", replica_identity(catalog_val(res, i, 14)));
			/* fall through: partitions and inheritance as for foreign tables */
			/* FALLTHROUGH */
		case MODEL_FOREIGN_TABLE:
			model_set_str(m, "partition_of", catalog_val(res, i, 5));
			model_set_str(m, "partition_bound", catalog_val(res, i, 6));
			r = catalog_set_array(m, "inherits", catalog_val(res, i, 7), false);
			if (kind == MODEL_FOREIGN_TABLE) {
				model_set_str(m, "server", catalog_val(res, i, 18));
				if (r == 0)
					r = catalog_set_array(m, "options", catalog_val(res, i, 19), true);
			}
			break;
		default:
			model_set_str(m, "definition", catalog_val(res, i, 8));
			break;
		}
		if (r == 0 && kind != MODEL_FOREIGN_TABLE)
			r = catalog_set_array(m, "options", catalog_val(res, i, 11), true);
		if (kind == MODEL_TABLE || kind == MODEL_MATERIALIZED_VIEW)
			model_set_str(m, "tablespace", catalog_val(res, i, 12));
		if (kind == MODEL_MATERIALIZED_VIEW)
			model_set_str(m, "access_method", catalog_val(res, i, 13));
		model_set_str(m, "owner", catalog_val(res, i, 15));
		if (r == 0)
			r = catalog_set_array(m, "acl", catalog_val(res, i, 16), true);
		model_set_str(m, "comment", catalog_val(res, i, 17));
		if ((r = catalog_end(m, r)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_relations = { "relations", sql_relations, read_relations };

/* ---- sequences ---- */

static const char *sql_sequences(int v)
{
	(void)v;
	/* Parameters only: the current value is data, not schema, and reading
	 * it would need privileges a monitoring role should not have. */
	return "SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart,"
	       " s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,"
	       " (SELECT " CATALOG_QUALIFIED("tn", "t") " || '.' || quote_ident(a.attname)"
	       "  FROM pg_depend dep JOIN pg_class t ON t.oid = dep.refobjid"
	       "  JOIN pg_namespace tn ON tn.oid = t.relnamespace"
	       "  JOIN pg_attribute a ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid"
	       "  WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid"
	       "  AND dep.refclassid = 'pg_class'::regclass AND dep.refobjsubid > 0"
	       "  AND dep.deptype IN ('a', 'i') LIMIT 1),"
	       " c.relpersistence = 'u'," OWNER_ACL_COMMENT("c.relowner", "c.relacl", "s")
	       " d.description"
	       " FROM pg_sequence s"
	       " JOIN pg_class c ON c.oid = s.seqrelid"
	       " JOIN pg_namespace n ON n.oid = c.relnamespace"
	       CATALOG_COMMENT_JOIN("d", "pg_class", "c.oid", "0")
	       " WHERE " CATALOG_USER_SCHEMA " AND" CATALOG_NOT_EXTENSION("pg_class", "c.oid");
}

static int read_sequences(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	(void)ctx;
	for (int i = 0; i < PQntuples(res); i++) {
		int r;

		model_begin(m, MODEL_SEQUENCE, catalog_val(res, i, 0), NULL, catalog_val(res, i, 1),
			    NULL);
		model_set_str(m, "type", catalog_val(res, i, 2));
		model_set_int(m, "start", catalog_val_int(res, i, 3));
		model_set_int(m, "increment", catalog_val_int(res, i, 4));
		model_set_int(m, "min", catalog_val_int(res, i, 5));
		model_set_int(m, "max", catalog_val_int(res, i, 6));
		model_set_int(m, "cache", catalog_val_int(res, i, 7));
		model_set_bool(m, "cycle", catalog_val_bool(res, i, 8));
		model_set_str(m, "owned_by", catalog_val(res, i, 9));
		model_set_bool(m, "unlogged", catalog_val_bool(res, i, 10));
		model_set_str(m, "owner", catalog_val(res, i, 11));
		r = catalog_set_array(m, "acl", catalog_val(res, i, 12), true);
		model_set_str(m, "comment", catalog_val(res, i, 13));
		if ((r = catalog_end(m, r)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_sequences = { "sequences", sql_sequences, read_sequences };

/* ---- columns ---- */

static const char *sql_columns(int v)
{
	(void)v;
	/* Ordered so each table's live columns arrive together, by attnum:
	 * the position reported is the rank among live columns, so a dropped
	 * column's gap in attnum never shows. */
	return "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),"
	       " a.attnotnull,"
	       " CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,"
	       " a.attidentity,"
	       " CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,"
	       " CASE WHEN a.attcollation <> t.typcollation THEN"
	       "  quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,"
	       " a.attacl,"
	       /* Only the documented column options: some server builds keep private,
	        * per-database entries in attoptions (pg_attver=...) that would read
	        * as drift after a dump and restore. */
	       " (SELECT array_agg(o) FROM unnest(a.attoptions) o"
	       "  WHERE o ~ '^n_distinct(_inherited)?='),"
	       " a.attfdwoptions, d.description,"
	       /* A partition's column that says exactly what its parent's says. */
	       " CASE WHEN c.relispartition THEN EXISTS (SELECT FROM pg_inherits h"
	       "  JOIN pg_attribute pa ON pa.attrelid = h.inhparent AND pa.attname = a.attname"
	       "  LEFT JOIN pg_attrdef pd ON pd.adrelid = pa.attrelid AND pd.adnum = pa.attnum"
	       "  WHERE h.inhrelid = c.oid AND pa.atttypid = a.atttypid"
	       "  AND pa.atttypmod = a.atttypmod AND pa.attnotnull = a.attnotnull"
	       "  AND pa.attcollation = a.attcollation AND pa.attidentity = a.attidentity"
	       "  AND pa.attgenerated = a.attgenerated AND pa.attacl IS NOT DISTINCT FROM a.attacl"
	       "  AND pg_get_expr(pd.adbin, pd.adrelid) IS NOT DISTINCT FROM"
	       "      pg_get_expr(ad.adbin, ad.adrelid)) ELSE false END"
	       " FROM pg_attribute a"
	       " JOIN pg_class c ON c.oid = a.attrelid"
	       " JOIN pg_namespace n ON n.oid = c.relnamespace"
	       " JOIN pg_type t ON t.oid = a.atttypid"
	       " LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum"
	       " LEFT JOIN pg_collation co ON co.oid = a.attcollation"
	       " LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace"
	       CATALOG_COMMENT_JOIN("d", "pg_class", "c.oid", "a.attnum")
	       " WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f')"
	       " AND " CATALOG_USER_SCHEMA " AND" CATALOG_NOT_EXTENSION("pg_class", "c.oid")
	       " ORDER BY a.attrelid, a.attnum";
}

static int read_columns(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	const char *prev_schema = NULL, *prev_table = NULL;
	long long position = 0;

	for (int i = 0; i < PQntuples(res); i++) {
		const char *schema = catalog_val(res, i, 0), *table = catalog_val(res, i, 1);
		const char *identity = catalog_val(res, i, 6);
		int r;

		if (!prev_table || strcmp(prev_table, table) != 0 || strcmp(prev_schema, schema) != 0)
			position = 0;
		prev_schema = schema;
		prev_table = table;
		position++;
		/* A partition's columns come from its parent: reported there once,
		 * unless the operator asked for every partition in full, or the
		 * partition's column says something its parent's does not (its own
		 * default, NOT NULL, grants).  (Not attislocal: an attached
		 * partition keeps it true, a restored one does not, and that must
		 * not look like drift.) */
		if (catalog_val_bool(res, i, 13) && !ctx->partitions_full)
			continue;
		model_begin(m, MODEL_COLUMN, schema, table, catalog_val(res, i, 2), NULL);
		model_set_int(m, "position", position);
		model_set_str(m, "type", catalog_val(res, i, 3));
		model_set_bool(m, "not_null", catalog_val_bool(res, i, 4));
		model_set_str(m, "default", catalog_val(res, i, 5));
		if (identity && identity[0])
			model_set_str(m, "identity", identity[0] == 'a' ? "always" : "by default");
		model_set_str(m, "generated", catalog_val(res, i, 7));
		model_set_str(m, "collation", catalog_val(res, i, 8));
		r = catalog_set_array(m, "acl", catalog_val(res, i, 9), true);
		if (r == 0)
			r = catalog_set_array(m, "options", catalog_val(res, i, 10), true);
		if (r == 0)
			r = catalog_set_array(m, "fdw_options", catalog_val(res, i, 11), true);
		model_set_str(m, "comment", catalog_val(res, i, 12));
		if ((r = catalog_end(m, r)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_columns = { "columns", sql_columns, read_columns };

/* ---- constraints ---- */

#define CONSTRAINT_SELECT(enforced) \
	"SELECT n.nspname, c.relname, k.conname, k.contype," \
	" pg_get_constraintdef(k.oid), k.condeferrable, k.condeferred, k.convalidated," \
	" CASE WHEN k.contype = 'f' THEN " CATALOG_QUALIFIED("fn", "fc") " END," \
	" k.confupdtype, k.confdeltype, k.confmatchtype, " enforced ", d.description," \
	" c.relispartition AND (k.coninhcount > 0 OR k.conparentid <> 0)" \
	" FROM pg_constraint k" \
	" JOIN pg_class c ON c.oid = k.conrelid" \
	" JOIN pg_namespace n ON n.oid = c.relnamespace" \
	" LEFT JOIN pg_class fc ON fc.oid = k.confrelid" \
	" LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace" \
	CATALOG_COMMENT_JOIN("d", "pg_constraint", "k.oid", "0") \
	" WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND " CATALOG_USER_SCHEMA \
	" AND" CATALOG_NOT_EXTENSION("pg_class", "c.oid")

static const char *sql_constraints(int v)
{
	/* PostgreSQL 18 stores NOT NULL as constraints (contype 'n'); columns
	 * already report not_null, so only these five types are read. */
	if (v >= 180000)
		return CONSTRAINT_SELECT("k.conenforced");
	return CONSTRAINT_SELECT("true");
}

static const char *fk_action(const char *code)
{
	switch (code ? code[0] : 0) {
	case 'a': return "no action";
	case 'r': return "restrict";
	case 'c': return "cascade";
	case 'n': return "set null";
	case 'd': return "set default";
	}
	return NULL;
}

static const char *fk_match(const char *code)
{
	switch (code ? code[0] : 0) {
	case 's': return "simple";
	case 'f': return "full";
	case 'p': return "partial";
	}
	return NULL;
}

static int read_constraints(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	for (int i = 0; i < PQntuples(res); i++) {
		char type = catalog_val(res, i, 3)[0];
		int r;

		if (catalog_val_bool(res, i, 14) && !ctx->partitions_full)
			continue;
		model_begin(m, MODEL_CONSTRAINT, catalog_val(res, i, 0), catalog_val(res, i, 1),
			    catalog_val(res, i, 2), NULL);
		model_set_str(m, "type", type == 'p' ? "primary key" : type == 'u' ? "unique"
					 : type == 'f' ? "foreign key" : type == 'c' ? "check"
					 : "exclusion");
		model_set_str(m, "definition", catalog_val(res, i, 4));
		model_set_bool(m, "deferrable", catalog_val_bool(res, i, 5));
		model_set_bool(m, "deferred", catalog_val_bool(res, i, 6));
		model_set_bool(m, "validated", catalog_val_bool(res, i, 7));
		if (type == 'f') {
			model_set_str(m, "references", catalog_val(res, i, 8));
			model_set_str(m, "on_update", fk_action(catalog_val(res, i, 9)));
			model_set_str(m, "on_delete", fk_action(catalog_val(res, i, 10)));
			model_set_str(m, "match", fk_match(catalog_val(res, i, 11)));
		}
		/* NOT ENFORCED exists from 18 on; before, every constraint is enforced
		 * and the attribute is left out so older snapshots compare equal. */
		if (!catalog_val_bool(res, i, 12))
			model_set_bool(m, "enforced", false);
		model_set_str(m, "comment", catalog_val(res, i, 13));
		if ((r = model_end(m)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_constraints = { "constraints", sql_constraints,
						   read_constraints };

/* ---- indexes ---- */

static const char *sql_indexes(int v)
{
	(void)v;
	return "SELECT n.nspname, t.relname, c.relname, pg_get_indexdef(i.indexrelid),"
	       " am.amname, i.indisunique, pg_get_expr(i.indpred, i.indrelid), i.indisvalid,"
	       " ts.spcname, d.description,"
	       " t.relispartition AND EXISTS (SELECT FROM pg_inherits h WHERE h.inhrelid = c.oid)"
	       " FROM pg_index i"
	       " JOIN pg_class c ON c.oid = i.indexrelid"
	       " JOIN pg_class t ON t.oid = i.indrelid"
	       " JOIN pg_namespace n ON n.oid = c.relnamespace"
	       " JOIN pg_am am ON am.oid = c.relam"
	       " LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace"
	       CATALOG_COMMENT_JOIN("d", "pg_class", "c.oid", "0")
	       " WHERE t.relkind IN ('r', 'p', 'm') AND " CATALOG_USER_SCHEMA
	       " AND" CATALOG_NOT_EXTENSION("pg_class", "t.oid");
}

static int read_indexes(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	for (int i = 0; i < PQntuples(res); i++) {
		int r;

		/* A partition's index attached to its parent's index: reported at the parent. */
		if (catalog_val_bool(res, i, 10) && !ctx->partitions_full)
			continue;
		model_begin(m, MODEL_INDEX, catalog_val(res, i, 0), catalog_val(res, i, 1),
			    catalog_val(res, i, 2), NULL);
		model_set_str(m, "definition", catalog_val(res, i, 3));
		model_set_str(m, "method", catalog_val(res, i, 4));
		model_set_bool(m, "unique", catalog_val_bool(res, i, 5));
		model_set_str(m, "predicate", catalog_val(res, i, 6));
		model_set_bool(m, "valid", catalog_val_bool(res, i, 7));
		model_set_str(m, "tablespace", catalog_val(res, i, 8));
		model_set_str(m, "comment", catalog_val(res, i, 9));
		if ((r = model_end(m)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_indexes = { "indexes", sql_indexes, read_indexes };
