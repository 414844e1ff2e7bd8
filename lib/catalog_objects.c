/* Catalog queries for triggers, rules, policies, extensions and the database-wide kinds. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "catalog_internal.h"

/* ---- triggers ---- */

#define TRIGGER_SELECT(inherited, user_made) \
	"SELECT n.nspname, c.relname, t.tgname, t.tgtype, t.tgenabled," \
	" quote_ident(pn.nspname) || '.' || quote_ident(p.proname) AS function," \
	" (SELECT array_agg(quote_ident(a.attname) ORDER BY k.ord)" \
	"  FROM unnest(t.tgattr) WITH ORDINALITY k(attnum, ord)" \
	"  JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = k.attnum) AS columns," \
	" substring(pg_get_triggerdef(t.oid) from" \
	"  ' FOR EACH (?:ROW|STATEMENT) WHEN \\((.*)\\) EXECUTE (?:FUNCTION|PROCEDURE) ')" \
	"  AS when_expr," \
	" substring(pg_get_triggerdef(t.oid) from" \
	"  ' EXECUTE (?:FUNCTION|PROCEDURE) [^(]*\\((.*)\\)$') AS arguments," \
	" t.tgconstraint <> 0 AS is_constraint, d.description AS comment, " inherited \
	" AS as_parent" \
	" FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid" \
	" JOIN pg_namespace n ON n.oid = c.relnamespace" \
	" JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace" \
	CATALOG_COMMENT_JOIN("d", "pg_trigger", "t.oid", "0") \
	" WHERE " user_made " AND " CATALOG_USER_SCHEMA \
	" AND" CATALOG_NOT_EXTENSION("pg_class", "c.oid")

/* tgparentid (13+): a partition's clone of its parent's trigger, unless
 * ALTER TABLE partition DISABLE TRIGGER made it say something else. */
#define TRIGGER_AS_PARENT \
	"t.tgparentid <> 0 AND t.tgenabled =" \
	" (SELECT pt.tgenabled FROM pg_trigger pt WHERE pt.oid = t.tgparentid)"

static const char *sql_triggers(int v)
{
	if (v >= 150000)
		return TRIGGER_SELECT(TRIGGER_AS_PARENT, "NOT t.tgisinternal");
	/* Up to 14 a partition's clone of a trigger is marked internal, like
	 * the foreign keys' triggers; unlike those, it has a parent trigger. */
	return TRIGGER_SELECT(TRIGGER_AS_PARENT, "(NOT t.tgisinternal OR t.tgparentid <> 0)");
}

#define TRIGGER_COLUMNS(X, T) \
	X(T, nspname) X(T, relname) X(T, tgname) X(T, tgtype) X(T, tgenabled) X(T, function) \
	X(T, columns) X(T, when_expr) X(T, arguments) X(T, is_constraint) X(T, comment) \
	X(T, as_parent)
CATALOG_COLUMNS(trigger_cols, TRIGGER_COLUMNS);

static int read_triggers(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	struct trigger_cols c;
	int r;

	if ((r = CATALOG_FIND(res, trigger_cols, &c)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		int type = (int)catalog_val_int(res, i, c.tgtype);
		const char *events[4];
		size_t n_events = 0;
		const char *enabled = catalog_val(res, i, c.tgenabled);

		if (catalog_val_bool(res, i, c.as_parent) && !ctx->partitions_full)
			continue;
		/* tgtype bits, as in pg_trigger.h: ROW 1, BEFORE 2, INSERT 4,
		 * DELETE 8, UPDATE 16, TRUNCATE 32, INSTEAD 64. */
		if (type & 4)
			events[n_events++] = "insert";
		if (type & 16)
			events[n_events++] = "update";
		if (type & 8)
			events[n_events++] = "delete";
		if (type & 32)
			events[n_events++] = "truncate";
		model_begin(m, MODEL_TRIGGER, catalog_val(res, i, c.nspname),
			    catalog_val(res, i, c.relname), catalog_val(res, i, c.tgname), NULL);
		model_set_str(m, "timing", type & 64 ? "instead of" : type & 2 ? "before" : "after");
		model_set_list(m, "events", events, n_events);
		model_set_str(m, "level", type & 1 ? "row" : "statement");
		r = catalog_set_array(m, "columns", catalog_val(res, i, c.columns), false);
		model_set_str(m, "when", catalog_val(res, i, c.when_expr));
		model_set_str(m, "function", catalog_val(res, i, c.function));
		model_set_str(m, "arguments", catalog_val(res, i, c.arguments));
		model_set_str(m, "enabled", catalog_enabled(enabled));
		model_set_bool(m, "constraint", catalog_val_bool(res, i, c.is_constraint));
		model_set_str(m, "comment", catalog_val(res, i, c.comment));
		if ((r = catalog_end(m, r)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_triggers = { "triggers", sql_triggers, read_triggers };

/* ---- rules ---- */

static const char *sql_rules(int v)
{
	(void)v;
	/* _RETURN is how a view is implemented, not a rule anyone wrote. */
	return "SELECT n.nspname, c.relname, w.rulename, pg_get_ruledef(w.oid) AS definition,"
	       " w.ev_type, w.ev_enabled, d.description AS comment"
	       " FROM pg_rewrite w JOIN pg_class c ON c.oid = w.ev_class"
	       " JOIN pg_namespace n ON n.oid = c.relnamespace"
	       CATALOG_COMMENT_JOIN("d", "pg_rewrite", "w.oid", "0")
	       " WHERE w.rulename <> '_RETURN' AND " CATALOG_USER_SCHEMA
	       " AND" CATALOG_NOT_EXTENSION("pg_class", "c.oid");
}

#define RULE_COLUMNS(X, T) \
	X(T, nspname) X(T, relname) X(T, rulename) X(T, definition) X(T, ev_type) \
	X(T, ev_enabled) X(T, comment)
CATALOG_COLUMNS(rule_cols, RULE_COLUMNS);

static int read_rules(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	struct rule_cols c;
	int r;

	(void)ctx;
	if ((r = CATALOG_FIND(res, rule_cols, &c)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *ev = catalog_val(res, i, c.ev_type), *en = catalog_val(res, i, c.ev_enabled);

		model_begin(m, MODEL_RULE, catalog_val(res, i, c.nspname),
			    catalog_val(res, i, c.relname), catalog_val(res, i, c.rulename), NULL);
		model_set_str(m, "definition", catalog_val(res, i, c.definition));
		model_set_str(m, "event", ev[0] == '1' ? "select" : ev[0] == '2' ? "update"
					  : ev[0] == '3' ? "insert" : "delete");
		model_set_str(m, "enabled", catalog_enabled(en));
		model_set_str(m, "comment", catalog_val(res, i, c.comment));
		if ((r = model_end(m)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_rules = { "rules", sql_rules, read_rules };

/* ---- row-level security policies ---- */

static const char *sql_policies(int v)
{
	(void)v;
	return "SELECT n.nspname, c.relname, p.polname, p.polcmd, p.polpermissive,"
	       " (SELECT array_agg(CASE WHEN k.oid = 0 THEN 'public' ELSE quote_ident(r.rolname) END)"
	       "  FROM unnest(p.polroles) k(oid) LEFT JOIN pg_roles r ON r.oid = k.oid) AS roles,"
	       " pg_get_expr(p.polqual, p.polrelid) AS using_expr,"
	       " pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,"
	       " d.description AS comment"
	       " FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
	       " JOIN pg_namespace n ON n.oid = c.relnamespace"
	       CATALOG_COMMENT_JOIN("d", "pg_policy", "p.oid", "0")
	       " WHERE " CATALOG_USER_SCHEMA " AND" CATALOG_NOT_EXTENSION("pg_class", "c.oid");
}

#define POLICY_COLUMNS(X, T) \
	X(T, nspname) X(T, relname) X(T, polname) X(T, polcmd) X(T, polpermissive) X(T, roles) \
	X(T, using_expr) X(T, with_check) X(T, comment)
CATALOG_COLUMNS(policy_cols, POLICY_COLUMNS);

static int read_policies(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	struct policy_cols c;
	int r;

	(void)ctx;
	if ((r = CATALOG_FIND(res, policy_cols, &c)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *cmd = catalog_val(res, i, c.polcmd);

		model_begin(m, MODEL_POLICY, catalog_val(res, i, c.nspname),
			    catalog_val(res, i, c.relname), catalog_val(res, i, c.polname), NULL);
		model_set_str(m, "command", cmd[0] == 'r' ? "select" : cmd[0] == 'a' ? "insert"
					    : cmd[0] == 'w' ? "update" : cmd[0] == 'd' ? "delete"
					    : "all");
		model_set_bool(m, "permissive", catalog_val_bool(res, i, c.polpermissive));
		/* Roles are a set: the order they were named in means nothing. */
		r = catalog_set_array(m, "roles", catalog_val(res, i, c.roles), true);
		model_set_str(m, "using", catalog_val(res, i, c.using_expr));
		model_set_str(m, "with_check", catalog_val(res, i, c.with_check));
		model_set_str(m, "comment", catalog_val(res, i, c.comment));
		if ((r = catalog_end(m, r)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_policies = { "policies", sql_policies, read_policies };

/* ---- extensions ---- */

static const char *sql_extensions(int v)
{
	(void)v;
	return "SELECT x.extname, x.extversion, n.nspname, d.description AS comment"
	       " FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace"
	       CATALOG_COMMENT_JOIN("d", "pg_extension", "x.oid", "0");
}

#define EXTENSION_COLUMNS(X, T) X(T, extname) X(T, extversion) X(T, nspname) X(T, comment)
CATALOG_COLUMNS(extension_cols, EXTENSION_COLUMNS);

static int read_extensions(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	struct extension_cols c;
	int r;

	(void)ctx;
	if ((r = CATALOG_FIND(res, extension_cols, &c)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		model_begin(m, MODEL_EXTENSION, NULL, NULL, catalog_val(res, i, c.extname), NULL);
		model_set_str(m, "version", catalog_val(res, i, c.extversion));
		model_set_str(m, "schema", catalog_val(res, i, c.nspname));
		model_set_str(m, "comment", catalog_val(res, i, c.comment));
		if ((r = model_end(m)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_extensions = { "extensions", sql_extensions,
						  read_extensions };

/* ---- the rest, in one query ----
 *
 * Kinds with few rows share one statement so the statement count stays
 * constant and small: every branch yields the same columns (kind, schema,
 * parent, name, owner, acl, comment, v1..v6), and a table below says what
 * v1..v6 mean for each kind.
 */

#define MISC_COLLATIONS(locale, collate, ctype) \
	"SELECT 'collation' AS kind, n.nspname AS schema, NULL AS parent, co.collname AS name," \
	" pg_get_userbyid(co.collowner) AS owner, NULL::aclitem[] AS acl, d.description AS comment," \
	" CASE co.collprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu'" \
	"  WHEN 'b' THEN 'builtin' ELSE 'default' END AS v1, " locale " AS v2," \
	" " collate " AS v3, " ctype " AS v4, co.collisdeterministic::text AS v5," \
	" NULL AS v6" \
	" FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace" \
	CATALOG_COMMENT_JOIN("d", "pg_collation", "co.oid", "0") \
	" WHERE " CATALOG_USER_SCHEMA " AND" CATALOG_NOT_EXTENSION("pg_collation", "co.oid")

#define MISC_STATISTICS \
	" UNION ALL SELECT 'statistics', n.nspname, c.relname, s.stxname," \
	" pg_get_userbyid(s.stxowner), NULL, d.description," \
	" pg_get_statisticsobjdef(s.oid), NULL, NULL, NULL, NULL, NULL" \
	" FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace" \
	" JOIN pg_class c ON c.oid = s.stxrelid" \
	CATALOG_COMMENT_JOIN("d", "pg_statistic_ext", "s.oid", "0") \
	" WHERE " CATALOG_USER_SCHEMA " AND" CATALOG_NOT_EXTENSION("pg_statistic_ext", "s.oid")

#define MISC_EVENT_TRIGGERS \
	" UNION ALL SELECT 'event_trigger', NULL, NULL, et.evtname," \
	" pg_get_userbyid(et.evtowner), NULL, d.description, et.evtevent, et.evttags::text," \
	" et.evtfoid::regproc::text," \
	" CASE et.evtenabled WHEN 'O' THEN 'origin' WHEN 'D' THEN 'disabled'" \
	"  WHEN 'R' THEN 'replica' ELSE 'always' END, NULL, NULL" \
	" FROM pg_event_trigger et" \
	CATALOG_COMMENT_JOIN("d", "pg_event_trigger", "et.oid", "0") \
	" WHERE" CATALOG_NOT_EXTENSION("pg_event_trigger", "et.oid")

#define MISC_PUBLICATIONS(tables, schemas) \
	" UNION ALL SELECT 'publication', NULL, NULL, pb.pubname, pg_get_userbyid(pb.pubowner)," \
	" NULL, d.description, pb.puballtables::text," \
	" array_remove(ARRAY[CASE WHEN pb.pubinsert THEN 'insert' END," \
	"  CASE WHEN pb.pubupdate THEN 'update' END, CASE WHEN pb.pubdelete THEN 'delete' END," \
	"  CASE WHEN pb.pubtruncate THEN 'truncate' END], NULL)::text," \
	" pb.pubviaroot::text, " tables ", " schemas ", NULL" \
	" FROM pg_publication pb" \
	CATALOG_COMMENT_JOIN("d", "pg_publication", "pb.oid", "0")

/* A published table, with its row filter and column list where the server has them (15+). */
#define PUB_TABLES_15 \
	"(SELECT array_agg(" CATALOG_QUALIFIED("tn", "t") \
	" || coalesce(' (' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)" \
	"   FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attnum = ANY(pr.prattrs)) || ')', '')" \
	" || coalesce(' WHERE ' || pg_get_expr(pr.prqual, pr.prrelid), ''))::text" \
	" FROM pg_publication_rel pr JOIN pg_class t ON t.oid = pr.prrelid" \
	" JOIN pg_namespace tn ON tn.oid = t.relnamespace WHERE pr.prpubid = pb.oid)"
#define PUB_TABLES_13 \
	"(SELECT array_agg(" CATALOG_QUALIFIED("tn", "t") ")::text" \
	" FROM pg_publication_rel pr JOIN pg_class t ON t.oid = pr.prrelid" \
	" JOIN pg_namespace tn ON tn.oid = t.relnamespace WHERE pr.prpubid = pb.oid)"
#define PUB_SCHEMAS_15 \
	"(SELECT array_agg(quote_ident(sn.nspname))::text FROM pg_publication_namespace ps" \
	" JOIN pg_namespace sn ON sn.oid = ps.pnnspid WHERE ps.pnpubid = pb.oid)"

/* Wrappers and servers: definitions only.  User mappings are never read:
 * their options hold passwords. */
#define MISC_FOREIGN \
	" UNION ALL SELECT 'foreign_data_wrapper', NULL, NULL, w.fdwname," \
	" pg_get_userbyid(w.fdwowner), coalesce(w.fdwacl, acldefault('F', w.fdwowner))," \
	" d.description, nullif(w.fdwhandler, 0)::regproc::text," \
	" nullif(w.fdwvalidator, 0)::regproc::text, w.fdwoptions::text, NULL, NULL, NULL" \
	" FROM pg_foreign_data_wrapper w" \
	CATALOG_COMMENT_JOIN("d", "pg_foreign_data_wrapper", "w.oid", "0") \
	" WHERE" CATALOG_NOT_EXTENSION("pg_foreign_data_wrapper", "w.oid") \
	" UNION ALL SELECT 'foreign_server', NULL, NULL, s.srvname," \
	" pg_get_userbyid(s.srvowner), coalesce(s.srvacl, acldefault('S', s.srvowner))," \
	" d.description, w.fdwname, s.srvtype, s.srvversion, s.srvoptions::text, NULL, NULL" \
	" FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw" \
	CATALOG_COMMENT_JOIN("d", "pg_foreign_server", "s.oid", "0") \
	" WHERE" CATALOG_NOT_EXTENSION("pg_foreign_server", "s.oid")

/* ALTER DATABASE ... SET: the current database's own settings (not per role). */
#define MISC_DATABASE_SETTINGS \
	" UNION ALL SELECT 'database_setting', NULL, NULL, split_part(cfg, '=', 1), NULL, NULL," \
	" NULL, substr(cfg, strpos(cfg, '=') + 1), NULL, NULL, NULL, NULL, NULL" \
	" FROM pg_db_role_setting s, unnest(s.setconfig) cfg" \
	" WHERE s.setrole = 0 AND s.setdatabase =" \
	" (SELECT oid FROM pg_database WHERE datname = current_database())"

#define MISC_DEFAULT_ACL \
	" UNION ALL SELECT 'default_privileges', n.nspname, NULL," \
	" pg_get_userbyid(da.defaclrole) || ' ' || CASE da.defaclobjtype WHEN 'r' THEN 'tables'" \
	"  WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types'" \
	"  WHEN 'n' THEN 'schemas' ELSE da.defaclobjtype::text END," \
	" NULL, da.defaclacl, NULL, pg_get_userbyid(da.defaclrole), CASE da.defaclobjtype" \
	"  WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'" \
	"  WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE da.defaclobjtype::text END," \
	" NULL, NULL, NULL, NULL" \
	" FROM pg_default_acl da LEFT JOIN pg_namespace n ON n.oid = da.defaclnamespace"

/* Everything after the collations, with the publications' table and schema lists. */
#define MISC_AFTER_COLLATIONS(tables, schemas) \
	MISC_STATISTICS MISC_EVENT_TRIGGERS MISC_PUBLICATIONS(tables, schemas) MISC_FOREIGN \
	MISC_DEFAULT_ACL MISC_DATABASE_SETTINGS

/* Before 15 an ICU collation's locale is in collcollate and collctype (both
 * the same); 15 moved it to colliculocale and left those two NULL. */
#define COLL_ICU_13 "CASE WHEN co.collprovider = 'i' THEN co.collcollate END"
#define COLL_LIBC_13(col) "CASE WHEN co.collprovider <> 'i' THEN co." col " END"

static const char *sql_misc(int v)
{
	if (v >= 170000)
		return MISC_COLLATIONS("co.colllocale", "co.collcollate", "co.collctype")
			MISC_AFTER_COLLATIONS(PUB_TABLES_15, PUB_SCHEMAS_15);
	if (v >= 150000)
		return MISC_COLLATIONS("co.colliculocale", "co.collcollate", "co.collctype")
			MISC_AFTER_COLLATIONS(PUB_TABLES_15, PUB_SCHEMAS_15);
	return MISC_COLLATIONS(COLL_ICU_13, COLL_LIBC_13("collcollate"), COLL_LIBC_13("collctype"))
		MISC_AFTER_COLLATIONS(PUB_TABLES_13, "NULL");
}

/* What the generic columns v1..v6 mean, per kind: 's' string, 'b' bool,
 * 'l' list in order, 'L' list as a set. */
static const struct misc_layout {
	const char *kind;
	enum model_kind model_kind;
	const char *attrs[6];
	const char types[7];
} misc_layouts[] = {
	{ "collation", MODEL_COLLATION,
	  { "provider", "locale", "lc_collate", "lc_ctype", "deterministic", NULL }, "ssssb" },
	{ "statistics", MODEL_STATISTICS, { "definition" }, "s" },
	{ "event_trigger", MODEL_EVENT_TRIGGER, { "event", "tags", "function", "enabled" },
	  "sLss" },
	{ "publication", MODEL_PUBLICATION,
	  { "all_tables", "operations", "via_root", "tables", "schemas" }, "blbLL" },
	{ "foreign_data_wrapper", MODEL_FOREIGN_DATA_WRAPPER, { "handler", "validator", "options" },
	  "ssL" },
	{ "foreign_server", MODEL_FOREIGN_SERVER, { "wrapper", "type", "version", "options" },
	  "sssL" },
	{ "default_privileges", MODEL_DEFAULT_PRIVILEGES, { "role", "object_type" }, "ss" },
	{ "database_setting", MODEL_DATABASE_SETTING, { "value" }, "s" },
};

#define MISC_COLUMNS(X, T) \
	X(T, kind) X(T, schema) X(T, parent) X(T, name) X(T, owner) X(T, acl) X(T, comment) \
	X(T, v1) X(T, v2) X(T, v3) X(T, v4) X(T, v5) X(T, v6)
CATALOG_COLUMNS(misc_cols, MISC_COLUMNS);

static int read_misc(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	struct misc_cols c;
	int r;

	(void)ctx;
	if ((r = CATALOG_FIND(res, misc_cols, &c)) < 0)
		return r;
	const int values[6] = { c.v1, c.v2, c.v3, c.v4, c.v5, c.v6 };
	for (int i = 0; i < PQntuples(res); i++) {
		const char *kind = catalog_val(res, i, c.kind);
		const struct misc_layout *l = NULL;

		r = 0;

		for (size_t k = 0; k < sizeof(misc_layouts) / sizeof(misc_layouts[0]); k++)
			if (strcmp(misc_layouts[k].kind, kind) == 0)
				l = &misc_layouts[k];
		if (!l)
			return -EINVAL;
		model_begin(m, l->model_kind, catalog_val(res, i, c.schema),
			    catalog_val(res, i, c.parent), catalog_val(res, i, c.name), NULL);
		for (int a = 0; a < 6 && l->attrs[a] && r == 0; a++) {
			const char *v = catalog_val(res, i, values[a]);
			switch (l->types[a]) {
			case 'b':
				if (v)
					model_set_bool(m, l->attrs[a], v[0] == 't');
				break;
			case 'l':
			case 'L':
				r = catalog_set_array(m, l->attrs[a], v, l->types[a] == 'L');
				break;
			default:
				model_set_str(m, l->attrs[a], v);
			}
		}
		model_set_str(m, "owner", catalog_val(res, i, c.owner));
		if (r == 0)
			r = catalog_set_array(m, "acl", catalog_val(res, i, c.acl), true);
		model_set_str(m, "comment", catalog_val(res, i, c.comment));
		if ((r = catalog_end(m, r)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_misc = { "other objects", sql_misc, read_misc };
