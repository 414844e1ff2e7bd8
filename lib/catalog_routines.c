/* Catalog queries for functions, procedures, aggregates, types and domains. */
#include <stdio.h>
#include <string.h>

#include "catalog_internal.h"

/* ---- functions, procedures, aggregates ---- */

#define ROUTINE_SELECT(body) \
	"SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind," \
	" pg_get_function_arguments(p.oid)," \
	" CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END," \
	" l.lanname, " body ", p.provolatile, p.proisstrict, p.prosecdef, p.proleakproof," \
	" p.proparallel, p.procost, p.prorows, p.proconfig," \
	" pg_get_userbyid(p.proowner), coalesce(p.proacl, acldefault('f', p.proowner))," \
	" d.description, a.aggkind, a.aggtransfn::regprocedure," \
	" format_type(a.aggtranstype, NULL)," \
	" nullif(a.aggfinalfn, 0)::regprocedure, nullif(a.aggcombinefn, 0)::regprocedure," \
	" a.agginitval, nullif(a.aggsortop, 0)::regoperator" \
	" FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace" \
	" JOIN pg_language l ON l.oid = p.prolang" \
	" LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid" \
	CATALOG_COMMENT_JOIN("d", "pg_proc", "p.oid", "0") \
	" WHERE " CATALOG_USER_SCHEMA " AND" CATALOG_NOT_EXTENSION("pg_proc", "p.oid") \
	/* A range type's constructors come with the type (internal dependency). */ \
	" AND NOT EXISTS (SELECT FROM pg_depend i WHERE i.classid = 'pg_proc'::regclass" \
	" AND i.objid = p.oid AND i.deptype = 'i')"

static const char *sql_routines(int v)
{
	/* SQL-standard bodies (BEGIN ATOMIC, RETURN expr) exist from 14 on and
	 * live in prosqlbody, deparsed like a view; prosrc is then empty. */
	if (v >= 140000)
		return ROUTINE_SELECT("CASE WHEN p.prosqlbody IS NOT NULL"
				      " THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END");
	return ROUTINE_SELECT("p.prosrc");
}

static const char *volatility(const char *c)
{
	switch (c ? c[0] : 0) {
	case 'i': return "immutable";
	case 's': return "stable";
	case 'v': return "volatile";
	}
	return NULL;
}

static const char *parallel(const char *c)
{
	switch (c ? c[0] : 0) {
	case 's': return "safe";
	case 'r': return "restricted";
	case 'u': return "unsafe";
	}
	return NULL;
}

static const char *aggregate_kind(const char *c)
{
	switch (c ? c[0] : 0) {
	case 'n': return "normal";
	case 'o': return "ordered-set";
	case 'h': return "hypothetical-set";
	}
	return NULL;
}

static int read_routines(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	(void)ctx;
	for (int i = 0; i < PQntuples(res); i++) {
		char prokind = catalog_val(res, i, 3)[0];
		enum model_kind kind = prokind == 'p' ? MODEL_PROCEDURE
				     : prokind == 'a' ? MODEL_AGGREGATE
						      : MODEL_FUNCTION;
		int r = 0;

		/* The identity signature tells overloads apart: f(int) and f(text). */
		model_begin(m, kind, catalog_val(res, i, 0), NULL, catalog_val(res, i, 1),
			    catalog_val(res, i, 2));
		model_set_str(m, "arguments", catalog_val(res, i, 4));
		model_set_str(m, "returns", catalog_val(res, i, 5));
		if (kind == MODEL_AGGREGATE) {
			model_set_str(m, "aggregate_kind", aggregate_kind(catalog_val(res, i, 19)));
			model_set_str(m, "transition_function", catalog_val(res, i, 20));
			model_set_str(m, "state_type", catalog_val(res, i, 21));
			model_set_str(m, "final_function", catalog_val(res, i, 22));
			model_set_str(m, "combine_function", catalog_val(res, i, 23));
			model_set_str(m, "initial_value", catalog_val(res, i, 24));
			model_set_str(m, "sort_operator", catalog_val(res, i, 25));
			model_set_str(m, "parallel", parallel(catalog_val(res, i, 12)));
		} else {
			model_set_str(m, "language", catalog_val(res, i, 6));
			model_set_str(m, "body", catalog_val(res, i, 7));
			model_set_bool(m, "security_definer", catalog_val_bool(res, i, 10));
			r = catalog_set_array(m, "config", catalog_val(res, i, 15), true);
		}
		if (kind == MODEL_FUNCTION) {
			model_set_str(m, "volatility", volatility(catalog_val(res, i, 8)));
			model_set_bool(m, "strict", catalog_val_bool(res, i, 9));
			model_set_bool(m, "leakproof", catalog_val_bool(res, i, 11));
			model_set_str(m, "parallel", parallel(catalog_val(res, i, 12)));
			/* procost is a float4; its text form is stable. */
			model_set_str(m, "cost", catalog_val(res, i, 13));
			if (catalog_val_int(res, i, 14) != 0)
				model_set_str(m, "rows", catalog_val(res, i, 14));
			model_set_bool(m, "window", prokind == 'w');
		}
		model_set_str(m, "owner", catalog_val(res, i, 16));
		if (r == 0)
			r = catalog_set_array(m, "acl", catalog_val(res, i, 17), true);
		model_set_str(m, "comment", catalog_val(res, i, 18));
		if ((r = catalog_end(m, r)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_routines = { "functions", sql_routines, read_routines };

/* ---- types and domains ---- */

static const char *sql_types(int v)
{
	(void)v;
	/* Array types, multirange types and the row types of tables come with
	 * their element, range or table and are not objects of their own. */
	return "SELECT n.nspname, t.typname, t.typtype,"
	       " CASE WHEN t.typtype = 'e' THEN (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)"
	       "  FROM pg_enum e WHERE e.enumtypid = t.oid) END,"
	       " CASE WHEN t.typtype = 'c' THEN (SELECT array_agg(quote_ident(a.attname) || ' '"
	       "  || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) FROM pg_attribute a"
	       "  WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END,"
	       " format_type(rg.rngsubtype, NULL),"
	       " CASE WHEN rg.rngtypid IS NOT NULL THEN"
	       "  quote_ident(opn.nspname) || '.' || quote_ident(opc.opcname) END,"
	       " nullif(rg.rngcanonical, 0)::regproc, nullif(rg.rngsubdiff, 0)::regproc,"
	       " CASE WHEN t.typtype = 'b' THEN t.typinput::regproc END,"
	       " CASE WHEN t.typtype = 'b' THEN t.typoutput::regproc END,"
	       " CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,"
	       " t.typnotnull, pg_get_expr(t.typdefaultbin, 0),"
	       " CASE WHEN (t.typtype = 'd' AND t.typcollation <> bt.typcollation)"
	       "  OR (t.typtype = 'r' AND rg.rngcollation <> 0) THEN"
	       "  quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,"
	       " CASE WHEN t.typtype = 'd' THEN (SELECT array_agg(quote_ident(k.conname) || ' '"
	       "  || pg_get_constraintdef(k.oid)) FROM pg_constraint k WHERE k.contypid = t.oid) END,"
	       " pg_get_userbyid(t.typowner), coalesce(t.typacl, acldefault('T', t.typowner)),"
	       " d.description"
	       " FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
	       " LEFT JOIN pg_type bt ON bt.oid = t.typbasetype"
	       " LEFT JOIN pg_range rg ON rg.rngtypid = t.oid"
	       " LEFT JOIN pg_opclass opc ON opc.oid = rg.rngsubopc"
	       " LEFT JOIN pg_namespace opn ON opn.oid = opc.opcnamespace"
	       " LEFT JOIN pg_collation co ON co.oid = CASE WHEN t.typtype = 'r'"
	       "  THEN rg.rngcollation ELSE t.typcollation END"
	       " LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace"
	       CATALOG_COMMENT_JOIN("d", "pg_type", "t.oid", "0")
	       " WHERE t.typtype IN ('b', 'c', 'd', 'e', 'r') AND " CATALOG_USER_SCHEMA
	       " AND (t.typtype <> 'c' OR (SELECT r.relkind FROM pg_class r"
	       "      WHERE r.oid = t.typrelid) = 'c')"
	       " AND NOT EXISTS (SELECT FROM pg_type el WHERE el.oid = t.typelem"
	       "      AND el.typarray = t.oid)"
	       " AND" CATALOG_NOT_EXTENSION("pg_type", "t.oid");
}

static const char *type_kind(char typtype)
{
	switch (typtype) {
	case 'b': return "base";
	case 'c': return "composite";
	case 'e': return "enum";
	case 'r': return "range";
	}
	return NULL;
}

static int read_types(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	(void)ctx;
	for (int i = 0; i < PQntuples(res); i++) {
		char typtype = catalog_val(res, i, 2)[0];
		int r = 0;

		model_begin(m, typtype == 'd' ? MODEL_DOMAIN : MODEL_TYPE, catalog_val(res, i, 0),
			    NULL, catalog_val(res, i, 1), NULL);
		if (typtype == 'd') {
			model_set_str(m, "base_type", catalog_val(res, i, 11));
			model_set_bool(m, "not_null", catalog_val_bool(res, i, 12));
			model_set_str(m, "default", catalog_val(res, i, 13));
			r = catalog_set_array(m, "constraints", catalog_val(res, i, 15), true);
		} else {
			model_set_str(m, "type", type_kind(typtype));
			/* Enum labels and composite attributes keep their order: it matters. */
			r = catalog_set_array(m, "labels", catalog_val(res, i, 3), false);
			if (r == 0)
				r = catalog_set_array(m, "attributes", catalog_val(res, i, 4), false);
			model_set_str(m, "subtype", catalog_val(res, i, 5));
			model_set_str(m, "subtype_opclass", catalog_val(res, i, 6));
			model_set_str(m, "canonical", catalog_val(res, i, 7));
			model_set_str(m, "subtype_diff", catalog_val(res, i, 8));
			model_set_str(m, "input", catalog_val(res, i, 9));
			model_set_str(m, "output", catalog_val(res, i, 10));
		}
		model_set_str(m, "collation", catalog_val(res, i, 14));
		model_set_str(m, "owner", catalog_val(res, i, 16));
		if (r == 0)
			r = catalog_set_array(m, "acl", catalog_val(res, i, 17), true);
		model_set_str(m, "comment", catalog_val(res, i, 18));
		if ((r = catalog_end(m, r)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_types = { "types", sql_types, read_types };
