/* Catalog queries for schemas, tables, views, sequences and their columns, constraints, indexes. */
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"

#define OWNER_ACL_COMMENT(owner, acl, kind) \
	" pg_get_userbyid(" owner ") AS owner," \
	" coalesce(" acl ", acldefault('" kind "', " owner ")) AS acl,"

/* ---- schemas ---- */

static const char *sql_schemas(int v)
{
	(void)v;
	return "SELECT n.nspname," OWNER_ACL_COMMENT("n.nspowner", "n.nspacl", "n")
	       " d.description AS comment FROM pg_namespace n"
	       CATALOG_COMMENT_JOIN("d", "pg_namespace", "n.oid", "0")
	       " WHERE " CATALOG_USER_SCHEMA
	       " AND" CATALOG_NOT_EXTENSION("pg_namespace", "n.oid");
}

#define SCHEMA_COLUMNS(X, T) X(T, nspname) X(T, owner) X(T, acl) X(T, comment)
CATALOG_COLUMNS(schema_cols, SCHEMA_COLUMNS);

static int read_schemas(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	struct schema_cols c;
	int r;

	(void)ctx;
	if ((r = CATALOG_FIND(res, schema_cols, &c)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		model_begin(m, MODEL_SCHEMA, NULL, NULL, catalog_val(res, i, c.nspname), NULL);
		model_set_str(m, "owner", catalog_val(res, i, c.owner));
		r = catalog_set_array(m, "acl", catalog_val(res, i, c.acl), true);
		model_set_str(m, "comment", catalog_val(res, i, c.comment));
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
	return "SELECT n.nspname, c.relname, c.relkind, c.relpersistence = 'u' AS unlogged,"
	       " CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,"
	       " CASE WHEN c.relispartition THEN"
	       "  (SELECT " CATALOG_QUALIFIED("pn", "p") " FROM pg_inherits i"
	       "   JOIN pg_class p ON p.oid = i.inhparent"
	       "   JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) END"
	       "  AS partition_of,"
	       " CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END"
	       "  AS partition_bound,"
	       " CASE WHEN NOT c.relispartition THEN"
	       "  (SELECT array_agg(" CATALOG_QUALIFIED("pn", "p") " ORDER BY i.inhseqno)"
	       "   FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent"
	       "   JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) END"
	       "  AS inherits,"
	       " CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS definition,"
	       " c.relrowsecurity, c.relforcerowsecurity,"
	       /* ALTER TABLE ... SET (toast.autovacuum_enabled = false) lands on the TOAST table. */
	       " CASE WHEN tc.reloptions IS NULL THEN c.reloptions ELSE array_cat(c.reloptions,"
	       "  ARRAY(SELECT 'toast.' || o FROM unnest(tc.reloptions) o)) END AS reloptions,"
	       " ts.spcname, am.amname,"
	       " CASE WHEN c.reloftype <> 0 THEN c.reloftype::regtype::text END AS of_type,"
	       " c.relreplident," OWNER_ACL_COMMENT("c.relowner", "c.relacl", "r")
	       " d.description AS comment, fs.srvname, ft.ftoptions"
	       " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	       " LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace"
	       " LEFT JOIN pg_am am ON am.oid = c.relam"
	       " LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid"
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

#define RELATION_COLUMNS(X, T) \
	X(T, nspname) X(T, relname) X(T, relkind) X(T, unlogged) X(T, partition_key) \
	X(T, partition_of) X(T, partition_bound) X(T, inherits) X(T, definition) \
	X(T, relrowsecurity) X(T, relforcerowsecurity) X(T, reloptions) X(T, spcname) \
	X(T, amname) X(T, of_type) X(T, relreplident) X(T, owner) X(T, acl) X(T, comment) \
	X(T, srvname) X(T, ftoptions)
CATALOG_COLUMNS(relation_cols, RELATION_COLUMNS);

static int read_relations(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	struct relation_cols c;
	int r;

	(void)ctx;
	if ((r = CATALOG_FIND(res, relation_cols, &c)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		char relkind = catalog_val(res, i, c.relkind)[0];
		enum model_kind kind = relkind == 'v' ? MODEL_VIEW
				     : relkind == 'm' ? MODEL_MATERIALIZED_VIEW
				     : relkind == 'f' ? MODEL_FOREIGN_TABLE
						      : MODEL_TABLE;

		r = 0;
		model_begin(m, kind, catalog_val(res, i, c.nspname), NULL,
			    catalog_val(res, i, c.relname), NULL);
		switch (kind) {
		case MODEL_TABLE:
			model_set_bool(m, "unlogged", catalog_val_bool(res, i, c.unlogged));
			model_set_str(m, "partition_key", catalog_val(res, i, c.partition_key));
			model_set_bool(m, "row_security", catalog_val_bool(res, i, c.relrowsecurity));
			model_set_bool(m, "force_row_security",
				       catalog_val_bool(res, i, c.relforcerowsecurity));
			model_set_str(m, "access_method", catalog_val(res, i, c.amname));
			model_set_str(m, "replica_identity",
				      replica_identity(catalog_val(res, i, c.relreplident)));
			model_set_str(m, "of_type", catalog_val(res, i, c.of_type));
			/* fall through: partitions and inheritance as for foreign tables */
			/* FALLTHROUGH */
		case MODEL_FOREIGN_TABLE:
			model_set_str(m, "partition_of", catalog_val(res, i, c.partition_of));
			model_set_str(m, "partition_bound", catalog_val(res, i, c.partition_bound));
			r = catalog_set_array(m, "inherits", catalog_val(res, i, c.inherits), false);
			if (kind == MODEL_FOREIGN_TABLE) {
				model_set_str(m, "server", catalog_val(res, i, c.srvname));
				if (r == 0)
					r = catalog_set_array(m, "options",
							      catalog_val(res, i, c.ftoptions), true);
			}
			break;
		default:
			model_set_str(m, "definition", catalog_val(res, i, c.definition));
			break;
		}
		if (r == 0 && kind != MODEL_FOREIGN_TABLE)
			r = catalog_set_array(m, "options", catalog_val(res, i, c.reloptions), true);
		if (kind == MODEL_TABLE || kind == MODEL_MATERIALIZED_VIEW)
			model_set_str(m, "tablespace", catalog_val(res, i, c.spcname));
		if (kind == MODEL_MATERIALIZED_VIEW)
			model_set_str(m, "access_method", catalog_val(res, i, c.amname));
		model_set_str(m, "owner", catalog_val(res, i, c.owner));
		if (r == 0)
			r = catalog_set_array(m, "acl", catalog_val(res, i, c.acl), true);
		model_set_str(m, "comment", catalog_val(res, i, c.comment));
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
	return "SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL) AS type, s.seqstart,"
	       " s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,"
	       " (SELECT " CATALOG_QUALIFIED("tn", "t") " || '.' || quote_ident(a.attname)"
	       "  FROM pg_depend dep JOIN pg_class t ON t.oid = dep.refobjid"
	       "  JOIN pg_namespace tn ON tn.oid = t.relnamespace"
	       "  JOIN pg_attribute a ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid"
	       "  WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid"
	       "  AND dep.refclassid = 'pg_class'::regclass AND dep.refobjsubid > 0"
	       "  AND dep.deptype IN ('a', 'i') LIMIT 1) AS owned_by,"
	       " c.relpersistence = 'u' AS unlogged,"
	       OWNER_ACL_COMMENT("c.relowner", "c.relacl", "s")
	       " d.description AS comment"
	       " FROM pg_sequence s"
	       " JOIN pg_class c ON c.oid = s.seqrelid"
	       " JOIN pg_namespace n ON n.oid = c.relnamespace"
	       CATALOG_COMMENT_JOIN("d", "pg_class", "c.oid", "0")
	       " WHERE " CATALOG_USER_SCHEMA " AND" CATALOG_NOT_EXTENSION("pg_class", "c.oid");
}

#define SEQUENCE_COLUMNS(X, T) \
	X(T, nspname) X(T, relname) X(T, type) X(T, seqstart) X(T, seqincrement) X(T, seqmin) \
	X(T, seqmax) X(T, seqcache) X(T, seqcycle) X(T, owned_by) X(T, unlogged) X(T, owner) \
	X(T, acl) X(T, comment)
CATALOG_COLUMNS(sequence_cols, SEQUENCE_COLUMNS);

static int read_sequences(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	struct sequence_cols c;
	int r;

	(void)ctx;
	if ((r = CATALOG_FIND(res, sequence_cols, &c)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		model_begin(m, MODEL_SEQUENCE, catalog_val(res, i, c.nspname), NULL,
			    catalog_val(res, i, c.relname), NULL);
		model_set_str(m, "type", catalog_val(res, i, c.type));
		model_set_int(m, "start", catalog_val_int(res, i, c.seqstart));
		model_set_int(m, "increment", catalog_val_int(res, i, c.seqincrement));
		model_set_int(m, "min", catalog_val_int(res, i, c.seqmin));
		model_set_int(m, "max", catalog_val_int(res, i, c.seqmax));
		model_set_int(m, "cache", catalog_val_int(res, i, c.seqcache));
		model_set_bool(m, "cycle", catalog_val_bool(res, i, c.seqcycle));
		model_set_str(m, "owned_by", catalog_val(res, i, c.owned_by));
		model_set_bool(m, "unlogged", catalog_val_bool(res, i, c.unlogged));
		model_set_str(m, "owner", catalog_val(res, i, c.owner));
		r = catalog_set_array(m, "acl", catalog_val(res, i, c.acl), true);
		model_set_str(m, "comment", catalog_val(res, i, c.comment));
		if ((r = catalog_end(m, r)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_sequences = { "sequences", sql_sequences, read_sequences };

/* ---- columns ---- */

/*
 * What pg_dump writes as ALTER TABLE ... ALTER COLUMN ... SET, read only where
 * it differs from the default so that a column that never had one reads
 * the same on every version: STORAGE (against the type's), COMPRESSION
 * (14+), STATISTICS (-1 up to 16, NULL from 17 on, for the default).  From
 * 18 on NOT NULL is a constraint of its own, with a name, and may be NOT
 * VALID or NO INHERIT; a generated column may be VIRTUAL.
 */
#define COLUMN_SELECT(compression, stattarget, not_null, nn_join) \
	"SELECT n.nspname, c.relname, a.attname," \
	" format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull," \
	" CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END" \
	"  AS default_expr," \
	" a.attidentity," \
	" CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END" \
	"  AS generated, a.attgenerated = 'v' AS virtual," \
	" CASE WHEN a.attcollation <> t.typcollation THEN" \
	"  quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END AS collation," \
	" a.attacl," \
	/* Only the documented column options: some server builds keep private, \
	 * per-database entries in attoptions (pg_attver=...) that would read \
	 * as drift after a dump and restore. */ \
	" (SELECT array_agg(o) FROM unnest(a.attoptions) o" \
	"  WHERE o ~ '^n_distinct(_inherited)?=') AS attoptions," \
	" a.attfdwoptions, d.description AS comment," \
	" CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage END AS storage," \
	" " compression " AS compression, " stattarget " AS statistics, " not_null "," \
	/* A partition's column that says exactly what its parent's says. */ \
	" CASE WHEN c.relispartition THEN EXISTS (SELECT FROM pg_inherits h" \
	"  JOIN pg_attribute pa ON pa.attrelid = h.inhparent AND pa.attname = a.attname" \
	"  LEFT JOIN pg_attrdef pd ON pd.adrelid = pa.attrelid AND pd.adnum = pa.attnum" \
	"  WHERE h.inhrelid = c.oid AND pa.atttypid = a.atttypid" \
	"  AND pa.atttypmod = a.atttypmod AND pa.attnotnull = a.attnotnull" \
	"  AND pa.attcollation = a.attcollation AND pa.attstorage = a.attstorage" \
	"  AND pa.attstattarget IS NOT DISTINCT FROM a.attstattarget" \
	/* Up to 16 a partition does not take its parent's identity, from \
	 * 17 on it does: either way inserts use the parent's. */ \
	"  AND (pa.attidentity = a.attidentity OR a.attidentity = '')" \
	"  AND pa.attgenerated = a.attgenerated AND pa.attacl IS NOT DISTINCT FROM a.attacl" \
	"  AND pg_get_expr(pd.adbin, pd.adrelid) IS NOT DISTINCT FROM" \
	"      pg_get_expr(ad.adbin, ad.adrelid)) ELSE false END AS as_parent" \
	" FROM pg_attribute a" \
	" JOIN pg_class c ON c.oid = a.attrelid" \
	" JOIN pg_namespace n ON n.oid = c.relnamespace" \
	" JOIN pg_type t ON t.oid = a.atttypid" \
	" LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum" \
	" LEFT JOIN pg_collation co ON co.oid = a.attcollation" \
	" LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace" \
	nn_join \
	CATALOG_COMMENT_JOIN("d", "pg_class", "c.oid", "a.attnum") \
	" WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f')" \
	" AND " CATALOG_USER_SCHEMA " AND" CATALOG_NOT_EXTENSION("pg_class", "c.oid") \
	/* Ordered so each table's live columns arrive together, by attnum: \
	 * the position reported is the rank among live columns, so a dropped \
	 * column's gap in attnum never shows. */ \
	" ORDER BY a.attrelid, a.attnum"

/* The not-null constraint's name when it is not the one the server picks
 * itself (table_column_not_null), and whether it is validated or inherited.
 * An inherited one (a partition's, made by PARTITION OF) is named after its
 * parent, and it keeps that name when DETACH PARTITION makes it the table's
 * own: reported either way, so that a detach does not rename it. */
#define NOT_NULL_18 \
	"CASE WHEN nn.conname <> c.relname || '_' || a.attname || '_not_null'" \
	" THEN nn.conname END AS not_null_name, coalesce(nn.convalidated, true)" \
	" AS not_null_validated, coalesce(nn.connoinherit, false) AS not_null_no_inherit"
#define NOT_NULL_JOIN_18 \
	" LEFT JOIN pg_constraint nn ON nn.conrelid = a.attrelid AND nn.contype = 'n'" \
	" AND nn.conkey[1] = a.attnum"
#define NOT_NULL_13 \
	"NULL AS not_null_name, true AS not_null_validated, false AS not_null_no_inherit"

static const char *sql_columns(int v)
{
	if (v >= 180000)
		return COLUMN_SELECT("nullif(a.attcompression, '')::text", "a.attstattarget",
				     NOT_NULL_18, NOT_NULL_JOIN_18);
	if (v >= 170000)
		return COLUMN_SELECT("nullif(a.attcompression, '')::text", "a.attstattarget",
				     NOT_NULL_13, "");
	if (v >= 140000)
		return COLUMN_SELECT("nullif(a.attcompression, '')::text",
				     "nullif(a.attstattarget, -1)", NOT_NULL_13, "");
	return COLUMN_SELECT("NULL::text", "nullif(a.attstattarget, -1)", NOT_NULL_13, "");
}

static const char *column_storage(const char *code)
{
	switch (code ? code[0] : 0) {
	case 'p': return "plain";
	case 'e': return "external";
	case 'm': return "main";
	case 'x': return "extended";
	}
	return NULL;
}

static const char *column_compression(const char *code)
{
	switch (code ? code[0] : 0) {
	case 'p': return "pglz";
	case 'l': return "lz4";
	}
	return NULL;
}

#define COLUMN_COLUMNS(X, T) \
	X(T, nspname) X(T, relname) X(T, attname) X(T, type) X(T, attnotnull) \
	X(T, default_expr) X(T, attidentity) X(T, generated) X(T, virtual) X(T, collation) \
	X(T, attacl) X(T, attoptions) X(T, attfdwoptions) X(T, comment) X(T, storage) \
	X(T, compression) X(T, statistics) X(T, not_null_name) X(T, not_null_validated) \
	X(T, not_null_no_inherit) X(T, as_parent)
CATALOG_COLUMNS(column_cols, COLUMN_COLUMNS);

static int read_columns(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	const char *prev_schema = NULL, *prev_table = NULL;
	long long position = 0;
	struct column_cols c;
	int r;

	if ((r = CATALOG_FIND(res, column_cols, &c)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *schema = catalog_val(res, i, c.nspname);
		const char *table = catalog_val(res, i, c.relname);
		const char *identity = catalog_val(res, i, c.attidentity);

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
		if (catalog_val_bool(res, i, c.as_parent) && !ctx->partitions_full)
			continue;
		model_begin(m, MODEL_COLUMN, schema, table, catalog_val(res, i, c.attname), NULL);
		model_set_int(m, "position", position);
		model_set_str(m, "type", catalog_val(res, i, c.type));
		model_set_bool(m, "not_null", catalog_val_bool(res, i, c.attnotnull));
		model_set_str(m, "default", catalog_val(res, i, c.default_expr));
		if (identity && identity[0])
			model_set_str(m, "identity", identity[0] == 'a' ? "always" : "by default");
		model_set_str(m, "generated", catalog_val(res, i, c.generated));
		if (catalog_val_bool(res, i, c.virtual))
			model_set_bool(m, "virtual", true);
		model_set_str(m, "storage", column_storage(catalog_val(res, i, c.storage)));
		model_set_str(m, "compression", column_compression(catalog_val(res, i, c.compression)));
		if (catalog_val(res, i, c.statistics))
			model_set_int(m, "statistics", catalog_val_int(res, i, c.statistics));
		model_set_str(m, "not_null_name", catalog_val(res, i, c.not_null_name));
		if (!catalog_val_bool(res, i, c.not_null_validated))
			model_set_bool(m, "not_null_validated", false);
		if (catalog_val_bool(res, i, c.not_null_no_inherit))
			model_set_bool(m, "not_null_no_inherit", true);
		model_set_str(m, "collation", catalog_val(res, i, c.collation));
		r = catalog_set_array(m, "acl", catalog_val(res, i, c.attacl), true);
		if (r == 0)
			r = catalog_set_array(m, "options", catalog_val(res, i, c.attoptions), true);
		if (r == 0)
			r = catalog_set_array(m, "fdw_options", catalog_val(res, i, c.attfdwoptions),
					      true);
		model_set_str(m, "comment", catalog_val(res, i, c.comment));
		if ((r = catalog_end(m, r)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_columns = { "columns", sql_columns, read_columns };

/* ---- constraints ---- */

#define CONSTRAINT_SELECT(enforced) \
	"SELECT n.nspname, c.relname, k.conname, k.contype," \
	" pg_get_constraintdef(k.oid) AS definition, k.condeferrable, k.condeferred," \
	" k.convalidated," \
	" CASE WHEN k.contype = 'f' THEN " CATALOG_QUALIFIED("fn", "fc") " END AS referenced," \
	" k.confupdtype, k.confdeltype, k.confmatchtype, " enforced " AS enforced," \
	" d.description AS comment," \
	" c.relispartition AND (k.coninhcount > 0 OR k.conparentid <> 0) AS as_parent," \
	/* The internal triggers that enforce it (a foreign key's, a deferrable \
	 * unique's), when ALTER TABLE ... DISABLE TRIGGER ALL turned one off. */ \
	" (SELECT min(tg.tgenabled::text) FROM pg_trigger tg WHERE tg.tgconstraint = k.oid" \
	"  AND tg.tgisinternal AND tg.tgenabled <> 'O') AS triggers" \
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

#define CONSTRAINT_COLUMNS(X, T) \
	X(T, nspname) X(T, relname) X(T, conname) X(T, contype) X(T, definition) \
	X(T, condeferrable) X(T, condeferred) X(T, convalidated) X(T, referenced) \
	X(T, confupdtype) X(T, confdeltype) X(T, confmatchtype) X(T, enforced) X(T, comment) \
	X(T, as_parent) X(T, triggers)
CATALOG_COLUMNS(constraint_cols, CONSTRAINT_COLUMNS);

static int read_constraints(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	struct constraint_cols c;
	int r;

	if ((r = CATALOG_FIND(res, constraint_cols, &c)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		char type = catalog_val(res, i, c.contype)[0];

		if (catalog_val_bool(res, i, c.as_parent) && !ctx->partitions_full)
			continue;
		model_begin(m, MODEL_CONSTRAINT, catalog_val(res, i, c.nspname),
			    catalog_val(res, i, c.relname), catalog_val(res, i, c.conname), NULL);
		model_set_str(m, "type", type == 'p' ? "primary key" : type == 'u' ? "unique"
					 : type == 'f' ? "foreign key" : type == 'c' ? "check"
					 : "exclusion");
		model_set_str(m, "definition", catalog_val(res, i, c.definition));
		model_set_bool(m, "deferrable", catalog_val_bool(res, i, c.condeferrable));
		model_set_bool(m, "deferred", catalog_val_bool(res, i, c.condeferred));
		model_set_bool(m, "validated", catalog_val_bool(res, i, c.convalidated));
		if (type == 'f') {
			model_set_str(m, "references", catalog_val(res, i, c.referenced));
			model_set_str(m, "on_update", fk_action(catalog_val(res, i, c.confupdtype)));
			model_set_str(m, "on_delete", fk_action(catalog_val(res, i, c.confdeltype)));
			model_set_str(m, "match", fk_match(catalog_val(res, i, c.confmatchtype)));
		}
		/* NOT ENFORCED exists from 18 on; before, every constraint is enforced
		 * and the attribute is left out so older snapshots compare equal. */
		if (!catalog_val_bool(res, i, c.enforced))
			model_set_bool(m, "enforced", false);
		model_set_str(m, "triggers", catalog_enabled(catalog_val(res, i, c.triggers)));
		model_set_str(m, "comment", catalog_val(res, i, c.comment));
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
	return "SELECT n.nspname, t.relname AS table_name, c.relname AS index_name,"
	       " pg_get_indexdef(i.indexrelid) AS definition, am.amname, i.indisunique,"
	       " pg_get_expr(i.indpred, i.indrelid) AS predicate, i.indisvalid,"
	       " ts.spcname, d.description AS comment,"
	       " t.relispartition AND EXISTS (SELECT FROM pg_inherits h WHERE h.inhrelid = c.oid)"
	       "  AS as_parent,"
	       /* ALTER INDEX ... ALTER COLUMN n SET STATISTICS (-1 up to 16, NULL from 17 on: unset) */
	       " (SELECT array_agg(ia.attnum || '=' || ia.attstattarget ORDER BY ia.attnum)"
	       "  FROM pg_attribute ia WHERE ia.attrelid = c.oid AND ia.attstattarget >= 0)"
	       "  AS statistics, i.indisreplident"
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

#define INDEX_COLUMNS(X, T) \
	X(T, nspname) X(T, table_name) X(T, index_name) X(T, definition) X(T, amname) \
	X(T, indisunique) X(T, predicate) X(T, indisvalid) X(T, spcname) X(T, comment) \
	X(T, as_parent) X(T, statistics) X(T, indisreplident)
CATALOG_COLUMNS(index_cols, INDEX_COLUMNS);

static int read_indexes(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	struct index_cols c;
	int r;

	if ((r = CATALOG_FIND(res, index_cols, &c)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		/* A partition's index attached to its parent's index: reported at the parent. */
		if (catalog_val_bool(res, i, c.as_parent) && !ctx->partitions_full)
			continue;
		model_begin(m, MODEL_INDEX, catalog_val(res, i, c.nspname),
			    catalog_val(res, i, c.table_name), catalog_val(res, i, c.index_name), NULL);
		model_set_str(m, "definition", catalog_val(res, i, c.definition));
		model_set_str(m, "method", catalog_val(res, i, c.amname));
		model_set_bool(m, "unique", catalog_val_bool(res, i, c.indisunique));
		model_set_str(m, "predicate", catalog_val(res, i, c.predicate));
		model_set_bool(m, "valid", catalog_val_bool(res, i, c.indisvalid));
		model_set_str(m, "tablespace", catalog_val(res, i, c.spcname));
		/* REPLICA IDENTITY USING INDEX names this index.  (Not CLUSTER ON:
		 * every CLUSTER ... USING, routine maintenance, sets it too.) */
		if (catalog_val_bool(res, i, c.indisreplident))
			model_set_bool(m, "replica_identity", true);
		r = catalog_set_array(m, "statistics", catalog_val(res, i, c.statistics), false);
		model_set_str(m, "comment", catalog_val(res, i, c.comment));
		if ((r = catalog_end(m, r)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_indexes = { "indexes", sql_indexes, read_indexes };
