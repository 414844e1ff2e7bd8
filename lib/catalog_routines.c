/* Catalog queries for functions, procedures, aggregates, types and domains. */
#include <stdio.h>
#include <string.h>

#include "catalog_internal.h"

/* ---- functions, procedures, aggregates ---- */

#define ROUTINE_SELECT(identity, arguments, body) \
	"SELECT n.nspname, p.proname, " identity " AS identity," \
	" p.prokind, " arguments " AS arguments," \
	" CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END AS returns," \
	" l.lanname, " body " AS body, p.provolatile, p.proisstrict, p.prosecdef," \
	" p.proleakproof, p.proparallel, p.procost, p.prorows, p.proconfig," \
	" pg_get_userbyid(p.proowner) AS owner," \
	" coalesce(p.proacl, acldefault('f', p.proowner)) AS acl," \
	" d.description AS comment, a.aggkind, a.aggtransfn::regprocedure AS transfn," \
	" format_type(a.aggtranstype, NULL) AS state_type," \
	" nullif(a.aggfinalfn, 0)::regprocedure AS finalfn," \
	" nullif(a.aggcombinefn, 0)::regprocedure AS combinefn," \
	" a.agginitval, nullif(a.aggsortop, 0)::regoperator AS sortop" \
	" FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace" \
	" JOIN pg_language l ON l.oid = p.prolang" \
	" LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid" \
	CATALOG_COMMENT_JOIN("d", "pg_proc", "p.oid", "0") \
	" WHERE " CATALOG_USER_SCHEMA " AND" CATALOG_NOT_EXTENSION("pg_proc", "p.oid") \
	/* A range type's constructors come with the type (internal dependency). */ \
	" AND NOT EXISTS (SELECT FROM pg_depend i WHERE i.classid = 'pg_proc'::regclass" \
	" AND i.objid = p.oid AND i.deptype = 'i')"

/*
 * From 14 on, procedures may have OUT arguments, and the server writes a
 * procedure's IN arguments "IN a integer"; 13 writes "a integer".  The
 * snapshot uses 14's form on every version, so a procedure keeps its
 * identity across an upgrade: on 13 every argument of a procedure without
 * a mode (13 has only INOUT and VARIADIC besides IN) gains its IN.
 */
#define PROCEDURE_IN_13(expr) \
	"CASE WHEN p.prokind = 'p' THEN regexp_replace(" expr "," \
	" '(^|, )(?!INOUT |VARIADIC )(?=.)', '\\1IN ', 'g') ELSE " expr " END"

static const char *sql_routines(int v)
{
	/* SQL-standard bodies (BEGIN ATOMIC, RETURN expr) exist from 14 on and
	 * live in prosqlbody, deparsed like a view; prosrc is then empty. */
	if (v >= 140000)
		return ROUTINE_SELECT("pg_get_function_identity_arguments(p.oid)",
				      "pg_get_function_arguments(p.oid)",
				      "CASE WHEN p.prosqlbody IS NOT NULL"
				      " THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END");
	return ROUTINE_SELECT(PROCEDURE_IN_13("pg_get_function_identity_arguments(p.oid)"),
			      PROCEDURE_IN_13("pg_get_function_arguments(p.oid)"), "p.prosrc");
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

#define ROUTINE_COLUMNS(X, T) \
	X(T, nspname) X(T, proname) X(T, identity) X(T, prokind) X(T, arguments) X(T, returns) \
	X(T, lanname) X(T, body) X(T, provolatile) X(T, proisstrict) X(T, prosecdef) \
	X(T, proleakproof) X(T, proparallel) X(T, procost) X(T, prorows) X(T, proconfig) \
	X(T, owner) X(T, acl) X(T, comment) X(T, aggkind) X(T, transfn) X(T, state_type) \
	X(T, finalfn) X(T, combinefn) X(T, agginitval) X(T, sortop)
CATALOG_COLUMNS(routine_cols, ROUTINE_COLUMNS);

static int read_routines(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	struct routine_cols c;
	int r;

	(void)ctx;
	if ((r = CATALOG_FIND(res, routine_cols, &c)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		char prokind = catalog_val(res, i, c.prokind)[0];
		enum model_kind kind = prokind == 'p' ? MODEL_PROCEDURE
				     : prokind == 'a' ? MODEL_AGGREGATE
						      : MODEL_FUNCTION;

		r = 0;
		/* The identity signature tells overloads apart: f(int) and f(text). */
		model_begin(m, kind, catalog_val(res, i, c.nspname), NULL,
			    catalog_val(res, i, c.proname), catalog_val(res, i, c.identity));
		model_set_str(m, "arguments", catalog_val(res, i, c.arguments));
		model_set_str(m, "returns", catalog_val(res, i, c.returns));
		if (kind == MODEL_AGGREGATE) {
			model_set_str(m, "aggregate_kind", aggregate_kind(catalog_val(res, i, c.aggkind)));
			model_set_str(m, "transition_function", catalog_val(res, i, c.transfn));
			model_set_str(m, "state_type", catalog_val(res, i, c.state_type));
			model_set_str(m, "final_function", catalog_val(res, i, c.finalfn));
			model_set_str(m, "combine_function", catalog_val(res, i, c.combinefn));
			model_set_str(m, "initial_value", catalog_val(res, i, c.agginitval));
			model_set_str(m, "sort_operator", catalog_val(res, i, c.sortop));
			model_set_str(m, "parallel", parallel(catalog_val(res, i, c.proparallel)));
		} else {
			model_set_str(m, "language", catalog_val(res, i, c.lanname));
			model_set_str(m, "body", catalog_val(res, i, c.body));
			model_set_bool(m, "security_definer", catalog_val_bool(res, i, c.prosecdef));
			r = catalog_set_array(m, "config", catalog_val(res, i, c.proconfig), true);
		}
		if (kind == MODEL_FUNCTION) {
			model_set_str(m, "volatility", volatility(catalog_val(res, i, c.provolatile)));
			model_set_bool(m, "strict", catalog_val_bool(res, i, c.proisstrict));
			model_set_bool(m, "leakproof", catalog_val_bool(res, i, c.proleakproof));
			model_set_str(m, "parallel", parallel(catalog_val(res, i, c.proparallel)));
			/* procost is a float4; its text form is stable. */
			model_set_str(m, "cost", catalog_val(res, i, c.procost));
			if (catalog_val_int(res, i, c.prorows) != 0)
				model_set_str(m, "rows", catalog_val(res, i, c.prorows));
			model_set_bool(m, "window", prokind == 'w');
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

const struct catalog_query catalog_routines = { "functions", sql_routines, read_routines };

/* ---- types and domains ---- */

static const char *sql_types(int v)
{
	(void)v;
	/* Array types, multirange types and the row types of tables come with
	 * their element, range or table and are not objects of their own. */
	return "SELECT n.nspname, t.typname, t.typtype,"
	       " CASE WHEN t.typtype = 'e' THEN (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)"
	       "  FROM pg_enum e WHERE e.enumtypid = t.oid) END AS labels,"
	       " CASE WHEN t.typtype = 'c' THEN (SELECT array_agg(quote_ident(a.attname) || ' '"
	       "  || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) FROM pg_attribute a"
	       "  WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END"
	       "  AS attributes,"
	       " format_type(rg.rngsubtype, NULL) AS subtype,"
	       " CASE WHEN rg.rngtypid IS NOT NULL THEN"
	       "  quote_ident(opn.nspname) || '.' || quote_ident(opc.opcname) END AS subtype_opclass,"
	       " nullif(rg.rngcanonical, 0)::regproc AS canonical,"
	       " nullif(rg.rngsubdiff, 0)::regproc AS subtype_diff,"
	       " CASE WHEN t.typtype = 'b' THEN t.typinput::regproc END AS input,"
	       " CASE WHEN t.typtype = 'b' THEN t.typoutput::regproc END AS output,"
	       " CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END"
	       "  AS base_type,"
	       " t.typnotnull, pg_get_expr(t.typdefaultbin, 0) AS default_expr,"
	       " CASE WHEN (t.typtype = 'd' AND t.typcollation <> bt.typcollation)"
	       "  OR (t.typtype = 'r' AND rg.rngcollation <> 0) THEN"
	       "  quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END AS collation,"
	       " CASE WHEN t.typtype = 'd' THEN (SELECT array_agg(quote_ident(k.conname) || ' '"
	       "  || pg_get_constraintdef(k.oid)) FROM pg_constraint k WHERE k.contypid = t.oid"
	       /* 17 and later also keep a domain's NOT NULL here: not_null says it. */
	       "  AND k.contype <> 'n') END"
	       "  AS constraints,"
	       " pg_get_userbyid(t.typowner) AS owner,"
	       " coalesce(t.typacl, acldefault('T', t.typowner)) AS acl,"
	       " d.description AS comment"
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

#define TYPE_COLUMNS(X, T) \
	X(T, nspname) X(T, typname) X(T, typtype) X(T, labels) X(T, attributes) X(T, subtype) \
	X(T, subtype_opclass) X(T, canonical) X(T, subtype_diff) X(T, input) X(T, output) \
	X(T, base_type) X(T, typnotnull) X(T, default_expr) X(T, collation) X(T, constraints) \
	X(T, owner) X(T, acl) X(T, comment)
CATALOG_COLUMNS(type_cols, TYPE_COLUMNS);

static int read_types(struct model *m, PGresult *res, const struct catalog_ctx *ctx)
{
	struct type_cols c;
	int r;

	(void)ctx;
	if ((r = CATALOG_FIND(res, type_cols, &c)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		char typtype = catalog_val(res, i, c.typtype)[0];

		model_begin(m, typtype == 'd' ? MODEL_DOMAIN : MODEL_TYPE,
			    catalog_val(res, i, c.nspname), NULL, catalog_val(res, i, c.typname), NULL);
		if (typtype == 'd') {
			model_set_str(m, "base_type", catalog_val(res, i, c.base_type));
			model_set_bool(m, "not_null", catalog_val_bool(res, i, c.typnotnull));
			model_set_str(m, "default", catalog_val(res, i, c.default_expr));
			r = catalog_set_array(m, "constraints", catalog_val(res, i, c.constraints), true);
		} else {
			model_set_str(m, "type", type_kind(typtype));
			/* Enum labels and composite attributes keep their order: it matters. */
			r = catalog_set_array(m, "labels", catalog_val(res, i, c.labels), false);
			if (r == 0)
				r = catalog_set_array(m, "attributes", catalog_val(res, i, c.attributes),
						      false);
			model_set_str(m, "subtype", catalog_val(res, i, c.subtype));
			model_set_str(m, "subtype_opclass", catalog_val(res, i, c.subtype_opclass));
			model_set_str(m, "canonical", catalog_val(res, i, c.canonical));
			model_set_str(m, "subtype_diff", catalog_val(res, i, c.subtype_diff));
			model_set_str(m, "input", catalog_val(res, i, c.input));
			model_set_str(m, "output", catalog_val(res, i, c.output));
		}
		model_set_str(m, "collation", catalog_val(res, i, c.collation));
		model_set_str(m, "owner", catalog_val(res, i, c.owner));
		if (r == 0)
			r = catalog_set_array(m, "acl", catalog_val(res, i, c.acl), true);
		model_set_str(m, "comment", catalog_val(res, i, c.comment));
		if ((r = catalog_end(m, r)) < 0)
			return r;
	}
	return 0;
}

const struct catalog_query catalog_types = { "types", sql_types, read_types };
