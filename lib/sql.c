/* SQL for model objects: definitions and the create/drop/alter statements that suggest a revert. */
#include "sql.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* ------------------------------------------------------------ writing */

/* A statement being written; bad once something could not be written exactly. */
struct w {
	FILE *f;
	char *buf;
	size_t len;
	bool bad;
};

static int w_open(struct w *w)
{
	w->buf = NULL;
	w->len = 0;
	w->bad = false;
	w->f = open_memstream(&w->buf, &w->len);
	return w->f ? 0 : -ENOMEM;
}

/* Hands the text over, or NULL when it is empty or not exact. */
static int w_close(struct w *w, char **ret)
{
	bool failed = ferror(w->f) != 0;

	if (fclose(w->f) != 0 || failed) {
		free(w->buf);
		return -ENOMEM;
	}
	if (w->bad || w->len == 0) {
		free(w->buf);
		*ret = NULL;
		return 0;
	}
	*ret = w->buf;
	return 0;
}

static void w_puts(struct w *w, const char *s)
{
	fputs(s, w->f);
}

/*
 * Words that quote_ident() quotes: every PostgreSQL keyword that is not
 * unreserved (reserved, type/function names, column names), from recent
 * releases.  A word too many only costs two quotes.
 */
static const char *const sql_keywords[] = {
	"all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
	"authorization", "between", "bigint", "binary", "bit", "boolean", "both", "case", "cast",
	"char", "character", "check", "coalesce", "collate", "collation", "column", "concurrently",
	"constraint", "create", "cross", "current_catalog", "current_date", "current_role",
	"current_schema", "current_time", "current_timestamp", "current_user", "dec", "decimal",
	"default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "exists",
	"extract", "false", "fetch", "float", "for", "foreign", "freeze", "from", "full", "grant",
	"greatest", "group", "grouping", "having", "ilike", "in", "initially", "inner", "inout",
	"int", "integer", "intersect", "interval", "into", "is", "isnull", "join", "json",
	"json_array", "json_arrayagg", "json_exists", "json_object", "json_objectagg",
	"json_query", "json_scalar", "json_serialize", "json_table", "json_value", "lateral",
	"leading", "least", "left", "like", "limit", "localtime", "localtimestamp",
	"merge_action", "national", "natural", "nchar", "none", "normalize", "not", "notnull",
	"null", "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer",
	"overlaps", "overlay", "placing", "position", "precision", "primary", "real",
	"references", "returning", "right", "row", "select", "session_user", "setof",
	"similar", "smallint", "some", "substring", "symmetric", "system_user", "table",
	"tablesample", "then", "time", "timestamp", "to", "trailing", "treat", "trim", "true",
	"union", "unique", "user", "using", "values", "varchar", "variadic", "verbose", "when",
	"where", "window", "with", "xmlattributes", "xmlconcat", "xmlelement", "xmlexists",
	"xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable",
};

static int keyword_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static bool ident_is_bare(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '$'))
			return false;
	return !bsearch(s, sql_keywords, sizeof(sql_keywords) / sizeof(sql_keywords[0]),
			sizeof(sql_keywords[0]), keyword_cmp);
}

static bool has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

int sql_put_ident(FILE *out, const char *s)
{
	if (!utf8_valid(s, strlen(s)))
		return -EILSEQ;
	if (ident_is_bare(s)) {
		fputs(s, out);
		return 0;
	}
	/* U&"..." spells control characters as \XXXX: exact, and nothing in the
	 * statement can move a terminal's cursor. */
	bool uni = has_control(s);
	fputs(uni ? "U&\"" : "\"", out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"')
			fputs("\"\"", out);
		else if (uni && *p == '\\')
			fputs("\\\\", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\%04X", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
	return 0;
}

static void w_ident(struct w *w, const char *s)
{
	if (!s || sql_put_ident(w->f, s) < 0)
		w->bad = true;
}

static void w_qname(struct w *w, const char *schema, const char *name)
{
	if (schema) {
		w_ident(w, schema);
		w_puts(w, ".");
	}
	w_ident(w, name);
}

/* A string literal: '...' with quotes doubled, E'...' when it needs escapes. */
static void w_literal(struct w *w, const char *s)
{
	bool e = has_control(s) || strchr(s, '\\');

	if (!utf8_valid(s, strlen(s))) {
		w->bad = true;
		return;
	}
	w_puts(w, e ? "E'" : "'");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\'')
			w_puts(w, "''");
		else if (*p == '\\')
			w_puts(w, "\\\\");
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(w->f, "\\x%02x", *p);
		else
			fputc(*p, w->f);
	}
	w_puts(w, "'");
}

/* Text the server deparsed (definitions, types, expressions): used as it is. */
static void w_text(struct w *w, const char *s)
{
	if (!s || !utf8_valid(s, strlen(s))) {
		w->bad = true;
		return;
	}
	w_puts(w, s);
}

/* A number the server printed (float4 text: "5", "0.5", "1e+06"). */
static void w_number(struct w *w, const char *s)
{
	if (!*s || strspn(s, "0123456789.e+-") != strlen(s))
		w->bad = true;
	else
		w_puts(w, s);
}

static void w_upper(struct w *w, const char *s)
{
	for (; s && *s; s++)
		fputc(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s, w->f);
}

/* word and then s written by put, when s is there. */
static void w_opt(struct w *w, const char *word, const char *s,
		  void (*put)(struct w *, const char *))
{
	if (!s)
		return;
	w_puts(w, word);
	put(w, s);
}

/* ------------------------------------------------------------ model access */

static const char *attr_str(const struct model_object *o, const char *name)
{
	const struct model_attr *a = o ? model_object_attr(o, name) : NULL;

	return a && a->value.type == MODEL_STR ? a->value.u.str : NULL;
}

static bool attr_bool(const struct model_object *o, const char *name)
{
	const struct model_attr *a = model_object_attr(o, name);

	return a && a->value.type == MODEL_BOOL && a->value.u.b;
}

static const struct model_value *attr_value(const struct model_object *o, const char *name)
{
	const struct model_attr *a = model_object_attr(o, name);

	return a ? &a->value : NULL;
}

/* The table or view a child object belongs to, or NULL. */
static const struct model_object *parent_of(const struct model *m, const struct model_object *o)
{
	static const enum model_kind kinds[] = { MODEL_TABLE, MODEL_FOREIGN_TABLE, MODEL_VIEW,
						 MODEL_MATERIALIZED_VIEW };
	struct model_object key = { .schema = o->schema, .name = o->parent };
	const struct model_object *p;

	if (!o->parent || !m)
		return NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		key.kind = kinds[i];
		if ((p = model_find(m, &key)))
			return p;
	}
	return NULL;
}

/* "ALTER TABLE" or "ALTER FOREIGN TABLE" for a child of a table; NULL otherwise. */
static const char *alter_parent(const struct model *m, const struct model_object *o)
{
	const struct model_object *p = parent_of(m, o);

	if (p && p->kind == MODEL_TABLE)
		return "ALTER TABLE ";
	if (p && p->kind == MODEL_FOREIGN_TABLE)
		return "ALTER FOREIGN TABLE ";
	return NULL;
}

/* ------------------------------------------------------------ naming */

/* The words COMMENT ON, ALTER ... OWNER TO and DROP use for a kind. */
static const char *const kind_words[MODEL_KIND_COUNT] = {
	[MODEL_EXTENSION] = "EXTENSION",
	[MODEL_FOREIGN_DATA_WRAPPER] = "FOREIGN DATA WRAPPER",
	[MODEL_FOREIGN_SERVER] = "SERVER",
	[MODEL_PUBLICATION] = "PUBLICATION",
	[MODEL_EVENT_TRIGGER] = "EVENT TRIGGER",
	[MODEL_SCHEMA] = "SCHEMA",
	[MODEL_COLLATION] = "COLLATION",
	[MODEL_TYPE] = "TYPE",
	[MODEL_DOMAIN] = "DOMAIN",
	[MODEL_FUNCTION] = "FUNCTION",
	[MODEL_PROCEDURE] = "PROCEDURE",
	[MODEL_AGGREGATE] = "AGGREGATE",
	[MODEL_TABLE] = "TABLE",
	[MODEL_FOREIGN_TABLE] = "FOREIGN TABLE",
	[MODEL_VIEW] = "VIEW",
	[MODEL_MATERIALIZED_VIEW] = "MATERIALIZED VIEW",
	[MODEL_SEQUENCE] = "SEQUENCE",
	[MODEL_COLUMN] = "COLUMN",
	[MODEL_CONSTRAINT] = "CONSTRAINT",
	[MODEL_INDEX] = "INDEX",
	[MODEL_TRIGGER] = "TRIGGER",
	[MODEL_RULE] = "RULE",
	[MODEL_POLICY] = "POLICY",
	[MODEL_STATISTICS] = "STATISTICS",
};

static bool is_routine(enum model_kind k)
{
	return k == MODEL_FUNCTION || k == MODEL_PROCEDURE || k == MODEL_AGGREGATE;
}

/* The object's name as those statements write it after the kind's words. */
static void w_object(struct w *w, const struct model_object *o)
{
	switch (o->kind) {
	case MODEL_COLUMN:
		w_qname(w, o->schema, o->parent);
		w_puts(w, ".");
		w_ident(w, o->name);
		return;
	case MODEL_CONSTRAINT:
	case MODEL_TRIGGER:
	case MODEL_RULE:
	case MODEL_POLICY:
		w_ident(w, o->name);
		w_puts(w, " ON ");
		w_qname(w, o->schema, o->parent);
		return;
	default:
		w_qname(w, o->schema, o->name);
		if (is_routine(o->kind)) {
			w_puts(w, "(");
			if (o->signature)
				w_text(w, o->signature);
			w_puts(w, ")");
		}
	}
}

/* ------------------------------------------------------------ privileges */

static const struct {
	char letter;
	const char *word;
} privilege_words[] = {
	{ 'r', "SELECT" },   { 'w', "UPDATE" },	    { 'a', "INSERT" },	 { 'd', "DELETE" },
	{ 'D', "TRUNCATE" }, { 'x', "REFERENCES" }, { 't', "TRIGGER" },	 { 'X', "EXECUTE" },
	{ 'U', "USAGE" },    { 'C', "CREATE" },	    { 'c', "CONNECT" },	 { 'T', "TEMPORARY" },
	{ 'm', "MAINTAIN" }, { 's', "SET" },	    { 'A', "ALTER SYSTEM" },
};

static const char *privilege_word(char letter)
{
	for (size_t i = 0; i < sizeof(privilege_words) / sizeof(privilege_words[0]); i++)
		if (privilege_words[i].letter == letter)
			return privilege_words[i].word;
	return NULL;
}

/* One aclitem, "grantee=privileges/grantor", names unquoted (grantee "" is PUBLIC). */
struct acl_item {
	char grantee[256], grantor[256];
	char privs[64];   /* letters, as the server lists them */
	char options[64]; /* the letters that carry the grant option */
};

/* Reads a name as aclitemout() writes it (double-quoted when needed) up to stop. */
static const char *acl_name(const char *p, char stop, char *out, size_t size)
{
	size_t n = 0;
	bool quoted = false;

	for (; *p; p++) {
		if (*p == '"') {
			if (quoted && p[1] == '"') {
				p++;
			} else {
				quoted = !quoted;
				continue;
			}
		} else if (!quoted && *p == stop) {
			break;
		}
		if (n + 1 >= size)
			return NULL;
		out[n++] = *p;
	}
	out[n] = '\0';
	return *p == stop ? p : NULL;
}

static bool acl_parse(const char *s, struct acl_item *it)
{
	const char *p = acl_name(s, '=', it->grantee, sizeof(it->grantee));
	size_t np = 0, no = 0;

	if (!p)
		return false;
	for (p++; *p && *p != '/'; p++) {
		if (*p == '*') {
			if (!np || no + 1 >= sizeof(it->options))
				return false;
			it->options[no++] = it->privs[np - 1];
			continue;
		}
		if (!privilege_word(*p) || np + 1 >= sizeof(it->privs))
			return false;
		it->privs[np++] = *p;
	}
	it->privs[np] = '\0';
	it->options[no] = '\0';
	return *p == '/' && acl_name(p + 1, '\0', it->grantor, sizeof(it->grantor)) != NULL;
}

/* Parses a list value (NULL: empty) into a malloc'd array; false when an item does not parse. */
static bool acl_list(const struct model_value *v, struct acl_item **ret, size_t *ret_n)
{
	size_t n = v && v->type == MODEL_LIST ? v->u.list.n : 0;

	*ret = calloc(n ? n : 1, sizeof(**ret));
	*ret_n = n;
	if (!*ret)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!acl_parse(v->u.list.items[i], &(*ret)[i]))
			return false;
	return v == NULL || v->type == MODEL_LIST;
}

static const struct acl_item *acl_find(const struct acl_item *items, size_t n,
				       const struct acl_item *like)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i].grantee, like->grantee) == 0 &&
		    strcmp(items[i].grantor, like->grantor) == 0)
			return &items[i];
	return NULL;
}

/* Where GRANT and REVOKE apply: an object, a column or default privileges. */
struct acl_target {
	const struct model_object *o;
	const char *column;  /* column privileges: the column's name */
	const char *role;    /* default privileges: FOR ROLE */
	const char *objtype; /* default privileges: TABLES, SEQUENCES... */
};

static void w_grant_head(struct w *w, const struct acl_target *t)
{
	if (t->role) {
		w_puts(w, "ALTER DEFAULT PRIVILEGES FOR ROLE ");
		w_ident(w, t->role);
		if (t->o->schema) {
			w_puts(w, " IN SCHEMA ");
			w_ident(w, t->o->schema);
		}
		w_puts(w, " ");
	}
}

static void w_grant_on(struct w *w, const struct acl_target *t)
{
	const struct model_object *o = t->o;

	w_puts(w, " ON ");
	if (t->role) {
		w_puts(w, t->objtype);
		return;
	}
	switch (o->kind) {
	case MODEL_COLUMN:
		w_puts(w, "TABLE ");
		w_qname(w, o->schema, o->parent);
		return;
	case MODEL_TABLE:
	case MODEL_FOREIGN_TABLE:
	case MODEL_VIEW:
	case MODEL_MATERIALIZED_VIEW:
		w_puts(w, "TABLE ");
		break;
	case MODEL_AGGREGATE:
		w_puts(w, "FUNCTION ");
		break;
	case MODEL_FOREIGN_SERVER:
		w_puts(w, "FOREIGN SERVER ");
		break;
	case MODEL_SEQUENCE:
	case MODEL_FUNCTION:
	case MODEL_PROCEDURE:
	case MODEL_SCHEMA:
	case MODEL_TYPE:
	case MODEL_DOMAIN:
	case MODEL_FOREIGN_DATA_WRAPPER:
		w_puts(w, kind_words[o->kind]);
		w_puts(w, " ");
		break;
	default:
		w->bad = true;
		return;
	}
	w_object(w, o);
}

/* GRANT/REVOKE [GRANT OPTION FOR] letters ON target TO/FROM grantee. */
static void w_grant(struct w *w, const struct acl_target *t, bool grant, bool option,
		    const char *letters, const char *grantee)
{
	if (!*letters)
		return;
	w_grant_head(w, t);
	w_puts(w, grant ? "GRANT " : option ? "REVOKE GRANT OPTION FOR " : "REVOKE ");
	for (const char *p = letters; *p; p++) {
		w_puts(w, p == letters ? "" : ", ");
		w_puts(w, privilege_word(*p));
		if (t->column) {
			w_puts(w, " (");
			w_ident(w, t->column);
			w_puts(w, ")");
		}
	}
	w_grant_on(w, t);
	w_puts(w, grant ? " TO " : " FROM ");
	if (*grantee)
		w_ident(w, grantee);
	else
		w_puts(w, "PUBLIC");
	w_puts(w, grant && option ? " WITH GRANT OPTION;\n" : ";\n");
}

/* Letters of a that are not in b (for options: a's options not among b's). */
static void letters_minus(const char *a, const char *b, char *out)
{
	size_t n = 0;

	for (; *a; a++)
		if (!strchr(b, *a))
			out[n++] = *a;
	out[n] = '\0';
}

/*
 * The GRANTs and REVOKEs that turn the privileges `from` into `to`, grantee
 * by grantee.  Only what the owner granted can be written exactly (REVOKE
 * run as the owner leaves others' grants alone): anything else is bad.
 */
static void w_acl_change(struct w *w, const struct acl_target *t, const char *owner,
			 const struct model_value *from_v, const struct model_value *to_v)
{
	struct acl_item *from = NULL, *to = NULL;
	size_t nf = 0, nt = 0;

	if (!acl_list(from_v, &from, &nf) || !acl_list(to_v, &to, &nt) || !owner) {
		w->bad = true;
		goto out;
	}
	for (int pass = 0; pass < 2; pass++) {
		const struct acl_item *list = pass ? to : from;
		size_t n = pass ? nt : nf;

		for (size_t i = 0; i < n; i++) {
			const struct acl_item *f = pass ? acl_find(from, nf, &list[i]) : &list[i];
			const struct acl_item *g = pass ? &list[i] : acl_find(to, nt, &list[i]);
			static const struct acl_item none;
			char revoke[64], grant[64], opt_revoke[64], opt_grant[64];

			if (pass && f)
				continue; /* done in the first pass */
			if (f && g && strcmp(f->privs, g->privs) == 0 &&
			    strcmp(f->options, g->options) == 0)
				continue;
			if (strcmp(list[i].grantor, owner) != 0) {
				w->bad = true;
				goto out;
			}
			if (!f)
				f = &none;
			if (!g)
				g = &none;
			letters_minus(f->privs, g->privs, revoke);
			letters_minus(g->privs, f->privs, grant);
			/* Grant options dropped from privileges that stay, and added. */
			letters_minus(f->options, g->options, opt_revoke);
			letters_minus(opt_revoke, revoke, opt_revoke);
			letters_minus(g->options, f->options, opt_grant);
			letters_minus(grant, opt_grant, grant);
			w_grant(w, t, false, false, revoke, list[i].grantee);
			w_grant(w, t, false, true, opt_revoke, list[i].grantee);
			w_grant(w, t, true, false, grant, list[i].grantee);
			w_grant(w, t, true, true, opt_grant, list[i].grantee);
		}
	}
out:
	free(from);
	free(to);
}

/* The owner whose grants an object's ACL lists (a column's: its table's). */
static const char *acl_owner(const struct model *m, const struct model_object *o)
{
	if (o->kind == MODEL_COLUMN)
		return attr_str(parent_of(m, o), "owner");
	if (o->kind == MODEL_DEFAULT_PRIVILEGES)
		return attr_str(o, "role");
	return attr_str(o, "owner");
}

/*
 * Default privileges: without a pg_default_acl row, a role's defaults are
 * the built-in ones (everything for the role, EXECUTE/USAGE for PUBLIC on
 * functions/types); a row IN SCHEMA only adds to them.
 */
static bool adp_target(const struct model *m, const struct model_object *o,
		       struct acl_target *t, char builtin[2][300], struct model_value *ret_default,
		       const char *items[2])
{
	static const struct {
		const char *name, *word, *owner_privs, *public_privs;
	} types[] = {
		{ "tables", "TABLES", "arwdDxt", NULL }, { "sequences", "SEQUENCES", "rwU", NULL },
		{ "functions", "FUNCTIONS", "X", "X" },	{ "types", "TYPES", "U", "U" },
		{ "schemas", "SCHEMAS", "UC", NULL },
	};
	const char *type = attr_str(o, "object_type"), *role = attr_str(o, "role");
	size_t n = 0;

	memset(t, 0, sizeof(*t));
	ret_default->type = MODEL_LIST;
	ret_default->u.list.items = items;
	ret_default->u.list.n = 0;
	for (size_t i = 0; type && role && i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(type, types[i].name) != 0)
			continue;
		t->o = o;
		t->role = role;
		t->objtype = types[i].word;
		if (o->schema)
			return true;
		/* A global row replaces the built-in defaults: start from those.
		 * The names are written back in aclitem form for acl_parse. */
		const char *owner_privs = types[i].owner_privs;
		bool maintain = strcmp(type, "tables") == 0 && m && m->server_version &&
				atoi(m->server_version) >= 17;
		if (strchr(role, '"') || strchr(role, '=') || strchr(role, '/') ||
		    strchr(role, ','))
			return false;
		snprintf(builtin[n], sizeof(builtin[n]), "%s=%s%s/%s", role, owner_privs,
			 maintain ? "m" : "", role);
		items[n] = builtin[n];
		n++;
		if (types[i].public_privs) {
			snprintf(builtin[n], sizeof(builtin[n]), "=%s/%s", types[i].public_privs,
				 role);
			items[n] = builtin[n];
			n++;
		}
		ret_default->u.list.n = n;
		return true;
	}
	return false;
}

static int adp_sql(const struct model *m, const struct model_object *o, bool create,
		   char **ret)
{
	struct acl_target t;
	char builtin[2][300];
	const char *items[2];
	struct model_value def;
	struct w w;
	int r = w_open(&w);

	if (r < 0)
		return r;
	if (!adp_target(m, o, &t, builtin, &def, items))
		w.bad = true;
	else if (create)
		w_acl_change(&w, &t, t.role, &def, attr_value(o, "acl"));
	else
		w_acl_change(&w, &t, t.role, attr_value(o, "acl"), &def);
	return w_close(&w, ret);
}

/* ------------------------------------------------------------ pieces */

static void w_comment(struct w *w, const struct model_object *o, const char *comment)
{
	w_puts(w, "COMMENT ON ");
	w_puts(w, kind_words[o->kind]);
	w_puts(w, " ");
	w_object(w, o);
	w_puts(w, " IS ");
	if (comment)
		w_literal(w, comment);
	else
		w_puts(w, "NULL");
	w_puts(w, ";\n");
}

/* A statement ending: the server's definitions end with ';' or not. */
static void w_end(struct w *w)
{
	fflush(w->f);
	if (w->len > 0 && w->buf[w->len - 1] == ';')
		w_puts(w, "\n");
	else
		w_puts(w, ";\n");
}

static void w_list(struct w *w, const struct model_value *v, const char *sep, bool idents)
{
	if (!v || v->type != MODEL_LIST)
		return;
	for (size_t i = 0; i < v->u.list.n; i++) {
		w_puts(w, i ? sep : "");
		if (idents)
			w_ident(w, v->u.list.items[i]);
		else
			w_text(w, v->u.list.items[i]);
	}
}

/* WITH (key=value, ...) from reloptions, which are plain words. */
static void w_options(struct w *w, const struct model_object *o)
{
	const struct model_value *v = attr_value(o, "options");

	if (!v || v->type != MODEL_LIST || v->u.list.n == 0)
		return;
	for (size_t i = 0; i < v->u.list.n; i++)
		if (strspn(v->u.list.items[i], "abcdefghijklmnopqrstuvwxyz0123456789_.=-") !=
		    strlen(v->u.list.items[i]))
			w->bad = true;
	w_puts(w, " WITH (");
	w_list(w, v, ", ", false);
	w_puts(w, ")");
}

static void w_view(struct w *w, const struct model_object *o, bool replace)
{
	w_puts(w, replace ? "CREATE OR REPLACE " : "CREATE ");
	w_puts(w, kind_words[o->kind]);
	w_puts(w, " ");
	w_qname(w, o->schema, o->name);
	w_options(w, o);
	w_puts(w, " AS\n");
	w_text(w, attr_str(o, "definition"));
	w_end(w);
}

/* GUCs whose values are lists of identifiers, stored already quoted. */
static bool guc_is_list(const char *name, size_t n)
{
	static const char *const lists[] = { "search_path", "temp_tablespaces",
		"session_preload_libraries", "local_preload_libraries" };

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (strlen(lists[i]) == n && memcmp(lists[i], name, n) == 0)
			return true;
	return false;
}

/* CREATE OR REPLACE FUNCTION/PROCEDURE with every attribute of o. */
static void w_routine(struct w *w, const struct model_object *o)
{
	const char *lang = attr_str(o, "language"), *body = attr_str(o, "body");
	const struct model_value *config = attr_value(o, "config");

	if (!lang || !body || strcmp(lang, "c") == 0 || strcmp(lang, "internal") == 0 ||
	    attr_bool(o, "window")) {
		w->bad = true;
		return;
	}
	w_puts(w, "CREATE OR REPLACE ");
	w_puts(w, kind_words[o->kind]);
	w_puts(w, " ");
	w_qname(w, o->schema, o->name);
	w_puts(w, "(");
	w_text(w, attr_str(o, "arguments") ? attr_str(o, "arguments") : "");
	w_puts(w, ")");
	if (o->kind == MODEL_FUNCTION) {
		w_puts(w, "\n RETURNS ");
		w_text(w, attr_str(o, "returns"));
	}
	w_puts(w, "\n LANGUAGE ");
	w_ident(w, lang);
	if (o->kind == MODEL_FUNCTION) {
		w_puts(w, "\n ");
		w_upper(w, attr_str(o, "volatility"));
		w_puts(w, attr_bool(o, "strict") ? " STRICT" : " CALLED ON NULL INPUT");
		w_puts(w, attr_bool(o, "leakproof") ? " LEAKPROOF" : " NOT LEAKPROOF");
		w_puts(w, " PARALLEL ");
		w_upper(w, attr_str(o, "parallel"));
		w_opt(w, " COST ", attr_str(o, "cost"), w_number);
		w_opt(w, " ROWS ", attr_str(o, "rows"), w_number);
	}
	w_puts(w, attr_bool(o, "security_definer") ? "\n SECURITY DEFINER" : "\n SECURITY INVOKER");
	for (size_t i = 0; config && config->type == MODEL_LIST && i < config->u.list.n; i++) {
		const char *item = config->u.list.items[i], *eq = strchr(item, '=');

		if (!eq || eq == item) {
			w->bad = true;
			break;
		}
		w_puts(w, "\n SET ");
		fprintf(w->f, "%.*s", (int)(eq - item), item);
		w_puts(w, " TO ");
		if (strspn(item, "abcdefghijklmnopqrstuvwxyz0123456789_.") != (size_t)(eq - item))
			w->bad = true;
		if (guc_is_list(item, (size_t)(eq - item))) {
			if (has_control(eq + 1) || strchr(eq + 1, ';') || strchr(eq + 1, '\''))
				w->bad = true;
			w_text(w, eq + 1);
		} else {
			w_literal(w, eq + 1);
		}
	}
	/* A SQL-standard body is written as it is; any other in dollar quotes
	 * whose tag does not occur in it. */
	if (strcmp(lang, "sql") == 0 &&
	    (strncmp(body, "RETURN ", 7) == 0 || strncmp(body, "BEGIN ATOMIC", 12) == 0)) {
		w_puts(w, "\n");
		w_text(w, body);
		w_end(w);
		return;
	}
	char tag[32] = "$body$";
	for (int k = 0; strstr(body, tag); k++)
		snprintf(tag, sizeof(tag), "$body%d$", k);
	w_puts(w, "\nAS ");
	w_puts(w, tag);
	w_text(w, body);
	w_puts(w, tag);
	w_puts(w, ";\n");
}

static void w_index(struct w *w, const struct model *m, const struct model_object *o)
{
	const char *def = attr_str(o, "definition"), *p;
	const char *ts = attr_str(o, "tablespace");
	const struct model_object *table = parent_of(m, o);
	bool partitioned = table && attr_str(table, "partition_key");
	const char *head = strncmp(def ? def : "", "CREATE UNIQUE INDEX ", 20) == 0
				   ? "CREATE UNIQUE INDEX "
				   : "CREATE INDEX ";

	if (!def || strncmp(def, head, strlen(head)) != 0 || !attr_bool(o, "valid")) {
		w->bad = true;
		return;
	}
	/* An index of a partitioned table cannot be built concurrently, and
	 * "ON ONLY" (how the server shows it) would build it for the parent only. */
	w_puts(w, head);
	if (!partitioned)
		w_puts(w, "CONCURRENTLY ");
	p = def + strlen(head);
	const char *only = strstr(p, " ON ONLY ");
	if (only && partitioned) {
		fprintf(w->f, "%.*s ON ", (int)(only - p), p);
		p = only + 9;
	}
	w_text(w, p);
	if (ts) {
		w_puts(w, " TABLESPACE ");
		w_ident(w, ts);
	}
	w_puts(w, ";\n");
}

static void w_policy(struct w *w, const struct model_object *o)
{
	const struct model_value *roles = attr_value(o, "roles");

	w_puts(w, "CREATE POLICY ");
	w_object(w, o);
	w_puts(w, attr_bool(o, "permissive") ? " AS PERMISSIVE FOR " : " AS RESTRICTIVE FOR ");
	w_upper(w, attr_str(o, "command"));
	w_puts(w, " TO ");
	for (size_t i = 0; roles && roles->type == MODEL_LIST && i < roles->u.list.n; i++) {
		w_puts(w, i ? ", " : "");
		if (strcmp(roles->u.list.items[i], "public") == 0)
			w_puts(w, "PUBLIC");
		else
			w_ident(w, roles->u.list.items[i]);
	}
	if (!roles || roles->type != MODEL_LIST || roles->u.list.n == 0)
		w_puts(w, "PUBLIC");
	if (attr_str(o, "using")) {
		w_puts(w, " USING (");
		w_text(w, attr_str(o, "using"));
		w_puts(w, ")");
	}
	if (attr_str(o, "with_check")) {
		w_puts(w, " WITH CHECK (");
		w_text(w, attr_str(o, "with_check"));
		w_puts(w, ")");
	}
	w_puts(w, ";\n");
}

static void w_trigger(struct w *w, const struct model_object *o)
{
	const struct model_value *events = attr_value(o, "events");

	w_puts(w, attr_bool(o, "constraint") ? "CREATE CONSTRAINT TRIGGER " : "CREATE TRIGGER ");
	w_ident(w, o->name);
	w_puts(w, " ");
	w_upper(w, attr_str(o, "timing"));
	for (size_t i = 0; events && events->type == MODEL_LIST && i < events->u.list.n; i++) {
		w_puts(w, i ? " OR " : " ");
		w_upper(w, events->u.list.items[i]);
		if (strcmp(events->u.list.items[i], "update") == 0 && attr_value(o, "columns")) {
			w_puts(w, " OF ");
			w_list(w, attr_value(o, "columns"), ", ", false);
		}
	}
	w_puts(w, " ON ");
	w_qname(w, o->schema, o->parent);
	w_puts(w, " FOR EACH ");
	w_upper(w, attr_str(o, "level"));
	if (attr_str(o, "when")) {
		w_puts(w, " WHEN (");
		w_text(w, attr_str(o, "when"));
		w_puts(w, ")");
	}
	w_puts(w, " EXECUTE FUNCTION ");
	w_text(w, attr_str(o, "function"));
	w_puts(w, "(");
	w_text(w, attr_str(o, "arguments") ? attr_str(o, "arguments") : "");
	w_puts(w, ");\n");
}

/* A sequence's numeric options, as CREATE and ALTER SEQUENCE write them. */
static const struct {
	const char *attr, *word;
} sequence_options[] = {
	{ "increment", " INCREMENT BY " }, { "min", " MINVALUE " }, { "max", " MAXVALUE " },
	{ "start", " START WITH " },	     { "cache", " CACHE " },
};

static void w_sequence(struct w *w, const struct model_object *o)
{

	w_puts(w, attr_bool(o, "unlogged") ? "CREATE UNLOGGED SEQUENCE " : "CREATE SEQUENCE ");
	w_qname(w, o->schema, o->name);
	w_opt(w, " AS ", attr_str(o, "type"), w_text);
	for (size_t i = 0; i < sizeof(sequence_options) / sizeof(sequence_options[0]); i++) {
		const struct model_value *v = attr_value(o, sequence_options[i].attr);

		if (v && v->type == MODEL_INT)
			fprintf(w->f, "%s%lld", sequence_options[i].word, v->u.i);
	}
	w_puts(w, attr_bool(o, "cycle") ? " CYCLE" : " NO CYCLE");
	w_opt(w, " OWNED BY ", attr_str(o, "owned_by"), w_text);
	w_puts(w, ";\n");
}

/* One column as CREATE TABLE lists it. */
static void w_column(struct w *w, const struct model_object *o)
{
	const char *identity = attr_str(o, "identity"), *generated = attr_str(o, "generated");

	w_ident(w, o->name);
	w_puts(w, " ");
	w_text(w, attr_str(o, "type"));
	w_opt(w, " COLLATE ", attr_str(o, "collation"), w_text);
	if (attr_bool(o, "not_null"))
		w_puts(w, " NOT NULL");
	w_opt(w, " DEFAULT ", attr_str(o, "default"), w_text);
	if (identity) {
		w_puts(w, " GENERATED ");
		w_upper(w, identity);
		w_puts(w, " AS IDENTITY");
	}
	if (generated) {
		w_puts(w, " GENERATED ALWAYS AS (");
		w_text(w, generated);
		w_puts(w, ") STORED");
	}
}

static long long attr_int(const struct model_object *o, const char *name)
{
	const struct model_value *v = attr_value(o, name);

	return v && v->type == MODEL_INT ? v->u.i : 0;
}

/* CREATE TABLE with the columns m holds for it, in their order. */
static void w_table(struct w *w, const struct model *m, const struct model_object *o)
{
	const struct model_object *cols[1600];
	size_t n = 0;

	w_puts(w, attr_bool(o, "unlogged") ? "CREATE UNLOGGED " : "CREATE ");
	w_puts(w, o->kind == MODEL_FOREIGN_TABLE ? "FOREIGN TABLE " : "TABLE ");
	w_qname(w, o->schema, o->name);
	/* Children follow their table in canonical order (model_object_cmp). */
	const struct model_object *at = m ? model_find(m, o) : NULL;
	for (const struct model_object *c = at ? at + 1 : NULL;
	     c && c < m->objects + m->n_objects && c->parent && n < 1600; c++) {
		if (strcmp(c->parent, o->name) != 0 || !c->schema || strcmp(c->schema, o->schema))
			break;
		if (c->kind == MODEL_COLUMN)
			cols[n++] = c;
	}
	/* Insertion sort by position: a table has few columns. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && attr_int(cols[j - 1], "position") >
						   attr_int(cols[j], "position"); j--) {
			const struct model_object *t = cols[j];
			cols[j] = cols[j - 1];
			cols[j - 1] = t;
		}
	if (attr_str(o, "partition_of")) {
		w_puts(w, " PARTITION OF ");
		w_text(w, attr_str(o, "partition_of"));
		w_puts(w, " ");
		w_text(w, attr_str(o, "partition_bound"));
	} else {
		w_puts(w, " (");
		for (size_t i = 0; i < n; i++) {
			w_puts(w, i ? ",\n    " : "\n    ");
			w_column(w, cols[i]);
		}
		w_puts(w, n ? "\n)" : ")");
	}
	w_opt(w, " PARTITION BY ", attr_str(o, "partition_key"), w_text);
	if (o->kind == MODEL_FOREIGN_TABLE && attr_str(o, "server")) {
		w_puts(w, " SERVER ");
		w_text(w, attr_str(o, "server"));
	}
	w_puts(w, ";\n");
}

static void w_type(struct w *w, const struct model_object *o)
{
	const char *type = attr_str(o, "type");

	w_puts(w, "CREATE TYPE ");
	w_qname(w, o->schema, o->name);
	if (type && strcmp(type, "enum") == 0) {
		const struct model_value *labels = attr_value(o, "labels");

		w_puts(w, " AS ENUM (");
		for (size_t i = 0; labels && labels->type == MODEL_LIST && i < labels->u.list.n; i++) {
			w_puts(w, i ? ", " : "");
			w_literal(w, labels->u.list.items[i]);
		}
		w_puts(w, ")");
	} else if (type && strcmp(type, "composite") == 0) {
		w_puts(w, " AS (");
		w_list(w, attr_value(o, "attributes"), ", ", false);
		w_puts(w, ")");
	} else if (type && strcmp(type, "range") == 0) {
		w_puts(w, " AS RANGE (SUBTYPE = ");
		w_text(w, attr_str(o, "subtype"));
		w_puts(w, ")");
	} else {
		w->bad = true;
	}
	w_puts(w, ";\n");
}

static void w_domain(struct w *w, const struct model_object *o)
{
	w_puts(w, "CREATE DOMAIN ");
	w_qname(w, o->schema, o->name);
	w_puts(w, " AS ");
	w_text(w, attr_str(o, "base_type"));
	w_opt(w, " COLLATE ", attr_str(o, "collation"), w_text);
	w_opt(w, " DEFAULT ", attr_str(o, "default"), w_text);
	if (attr_bool(o, "not_null"))
		w_puts(w, " NOT NULL");
	const struct model_value *cons = attr_value(o, "constraints");
	for (size_t i = 0; cons && cons->type == MODEL_LIST && i < cons->u.list.n; i++) {
		w_puts(w, " CONSTRAINT ");
		w_text(w, cons->u.list.items[i]);
	}
	w_puts(w, ";\n");
}

/* The constraint that brings the index o with it (primary key, unique, exclusion), or NULL. */
static const struct model_object *index_constraint(const struct model *m,
						   const struct model_object *o)
{
	struct model_object key = { .kind = MODEL_CONSTRAINT, .schema = o->schema,
				    .parent = o->parent, .name = o->name };
	const struct model_object *c = m && o->kind == MODEL_INDEX ? model_find(m, &key) : NULL;
	const char *type = attr_str(c, "type");

	return type && (strcmp(type, "primary key") == 0 || strcmp(type, "unique") == 0 ||
			strcmp(type, "exclusion") == 0)
		       ? c
		       : NULL;
}

static void w_constraint(struct w *w, const struct model *m, const struct model_object *o)
{
	const char *alter = alter_parent(m, o);

	if (!alter) {
		w->bad = true;
		return;
	}
	w_puts(w, alter);
	w_qname(w, o->schema, o->parent);
	w_puts(w, " ADD CONSTRAINT ");
	w_ident(w, o->name);
	w_puts(w, " ");
	w_text(w, attr_str(o, "definition"));
	w_puts(w, ";\n");
}

/* ------------------------------------------------------------ public */

int sql_definition(const struct model *m, const struct model_object *o, char **ret)
{
	struct w w;
	int r;

	if (o->kind == MODEL_DEFAULT_PRIVILEGES)
		return adp_sql(m, o, true, ret);
	if ((r = w_open(&w)) < 0)
		return r;
	switch (o->kind) {
	case MODEL_INDEX:
	case MODEL_RULE:
	case MODEL_STATISTICS:
		w_text(&w, attr_str(o, "definition"));
		w_end(&w);
		break;
	case MODEL_CONSTRAINT:
		w_constraint(&w, m, o);
		break;
	case MODEL_VIEW:
	case MODEL_MATERIALIZED_VIEW:
		w_view(&w, o, false);
		break;
	case MODEL_TRIGGER:
		w_trigger(&w, o);
		break;
	case MODEL_POLICY:
		w_policy(&w, o);
		break;
	case MODEL_FUNCTION:
	case MODEL_PROCEDURE:
	case MODEL_AGGREGATE:
		w_puts(&w, kind_words[o->kind]);
		w_puts(&w, " ");
		w_qname(&w, o->schema, o->name);
		w_puts(&w, "(");
		w_text(&w, attr_str(o, "arguments") ? attr_str(o, "arguments") : "");
		w_puts(&w, ")");
		w_opt(&w, " RETURNS ", attr_str(o, "returns"), w_text);
		w_opt(&w, " LANGUAGE ", attr_str(o, "language"), w_ident);
		w_puts(&w, "\n");
		break;
	case MODEL_SEQUENCE:
		w_sequence(&w, o);
		break;
	case MODEL_TABLE:
	case MODEL_FOREIGN_TABLE:
		w_table(&w, m, o);
		break;
	case MODEL_COLUMN:
		if (!alter_parent(m, o)) {
			w_column(&w, o);
			break;
		}
		w_puts(&w, alter_parent(m, o));
		w_qname(&w, o->schema, o->parent);
		w_puts(&w, " ADD COLUMN ");
		w_column(&w, o);
		w_puts(&w, ";\n");
		break;
	case MODEL_SCHEMA:
		w_puts(&w, "CREATE SCHEMA ");
		w_ident(&w, o->name);
		w_opt(&w, " AUTHORIZATION ", attr_str(o, "owner"), w_ident);
		w_puts(&w, ";\n");
		break;
	case MODEL_EXTENSION:
		w_puts(&w, "CREATE EXTENSION ");
		w_ident(&w, o->name);
		w_opt(&w, " SCHEMA ", attr_str(o, "schema"), w_ident);
		w_opt(&w, " VERSION ", attr_str(o, "version"), w_literal);
		w_puts(&w, ";\n");
		break;
	case MODEL_TYPE:
		w_type(&w, o);
		break;
	case MODEL_DOMAIN:
		w_domain(&w, o);
		break;
	default:
		w.bad = true;
		break;
	}
	return w_close(&w, ret);
}

/* An index created and dropped with its constraint, whose own change says so. */
static void w_index_of_constraint(struct w *w, const struct model_object *o,
				  const struct model_object *c)
{
	w_puts(w, "-- index ");
	w_qname(w, o->schema, o->name);
	w_puts(w, " comes and goes with constraint ");
	w_ident(w, c->name);
	w_puts(w, "\n");
}

/* A created object's comment, when it has one. */
static void w_comment_of(struct w *w, const struct model_object *o)
{
	if (attr_str(o, "comment"))
		w_comment(w, o, attr_str(o, "comment"));
}

int sql_create(const struct model *m, const struct model_object *o, char **ret)
{
	struct w w;
	int r;

	if (o->kind == MODEL_DEFAULT_PRIVILEGES)
		return adp_sql(m, o, true, ret);
	if ((r = w_open(&w)) < 0)
		return r;
	switch (o->kind) {
	case MODEL_INDEX: {
		const struct model_object *c = index_constraint(m, o);

		if (c) {
			w_index_of_constraint(&w, o, c);
			break;
		}
		w_index(&w, m, o);
		w_comment_of(&w, o);
		break;
	}
	case MODEL_CONSTRAINT:
		w_constraint(&w, m, o);
		w_comment_of(&w, o);
		break;
	case MODEL_POLICY:
		w_policy(&w, o);
		w_comment_of(&w, o);
		break;
	default:
		w.bad = true;
		break;
	}
	return w_close(&w, ret);
}

int sql_drop(const struct model *m, const struct model_object *o, char **ret)
{
	const struct model_object *table;
	struct w w;
	int r;

	if (o->kind == MODEL_DEFAULT_PRIVILEGES)
		return adp_sql(m, o, false, ret);
	if ((r = w_open(&w)) < 0)
		return r;
	switch (o->kind) {
	case MODEL_INDEX: {
		const struct model_object *c = index_constraint(m, o);

		if (c) {
			w_index_of_constraint(&w, o, c);
			break;
		}
		table = parent_of(m, o);
		w_puts(&w, table && attr_str(table, "partition_key") ? "DROP INDEX "
								     : "DROP INDEX CONCURRENTLY ");
		w_qname(&w, o->schema, o->name);
		w_puts(&w, ";\n");
		break;
	}
	case MODEL_CONSTRAINT:
		if (!alter_parent(m, o)) {
			w.bad = true;
			break;
		}
		w_puts(&w, alter_parent(m, o));
		w_qname(&w, o->schema, o->parent);
		w_puts(&w, " DROP CONSTRAINT ");
		w_ident(&w, o->name);
		w_puts(&w, ";\n");
		break;
	case MODEL_TRIGGER:
	case MODEL_RULE:
	case MODEL_POLICY:
	case MODEL_VIEW:
	case MODEL_MATERIALIZED_VIEW:
	case MODEL_FUNCTION:
	case MODEL_PROCEDURE:
	case MODEL_AGGREGATE:
	case MODEL_STATISTICS:
		/* No CASCADE: whatever depends on it makes the statement fail. */
		w_puts(&w, "DROP ");
		w_puts(&w, kind_words[o->kind]);
		w_puts(&w, " ");
		w_object(&w, o);
		w_puts(&w, ";\n");
		break;
	default:
		w.bad = true;
		break;
	}
	return w_close(&w, ret);
}

static bool value_is_str(const struct model_value *v)
{
	return v && v->type == MODEL_STR;
}

static void w_alter_column(struct w *w, const struct model *m, const struct model_object *o,
			   const char *attr, const struct model_value *to_v)
{
	const char *alter = alter_parent(m, o);

	if (!alter) {
		w->bad = true;
		return;
	}
	w_puts(w, alter);
	w_qname(w, o->schema, o->parent);
	w_puts(w, " ALTER COLUMN ");
	w_ident(w, o->name);
	if (strcmp(attr, "not_null") == 0) {
		w_puts(w, to_v && to_v->type == MODEL_BOOL && to_v->u.b ? " SET NOT NULL"
									: " DROP NOT NULL");
	} else if (strcmp(attr, "default") == 0) {
		if (value_is_str(to_v)) {
			w_puts(w, " SET DEFAULT ");
			w_text(w, to_v->u.str);
		} else {
			w_puts(w, " DROP DEFAULT");
		}
	} else if (strcmp(attr, "type") == 0 && value_is_str(to_v)) {
		w_puts(w, " TYPE ");
		w_text(w, to_v->u.str);
		w_opt(w, " COLLATE ", attr_str(o, "collation"), w_text);
	} else {
		w->bad = true;
	}
	w_puts(w, ";\n");
}

static void w_enable_trigger(struct w *w, const struct model *m, const struct model_object *o,
			     const struct model_value *to_v)
{
	const char *alter = alter_parent(m, o);
	const char *s = value_is_str(to_v) ? to_v->u.str : "";
	const char *how = strcmp(s, "origin") == 0 ? " ENABLE TRIGGER "
			: strcmp(s, "always") == 0 ? " ENABLE ALWAYS TRIGGER "
			: strcmp(s, "replica") == 0 ? " ENABLE REPLICA TRIGGER "
			: strcmp(s, "disabled") == 0 ? " DISABLE TRIGGER " : NULL;

	if (!alter || !how) {
		w->bad = true;
		return;
	}
	w_puts(w, alter);
	w_qname(w, o->schema, o->parent);
	w_puts(w, how);
	w_ident(w, o->name);
	w_puts(w, ";\n");
}

static void w_alter_sequence(struct w *w, const struct model_object *o, const char *attr,
			     const struct model_value *to_v)
{

	w_puts(w, "ALTER SEQUENCE ");
	w_qname(w, o->schema, o->name);
	if (strcmp(attr, "cycle") == 0) {
		w_puts(w, to_v && to_v->type == MODEL_BOOL && to_v->u.b ? " CYCLE;\n"
									: " NO CYCLE;\n");
		return;
	}
	if (strcmp(attr, "owned_by") == 0) {
		w_puts(w, " OWNED BY ");
		if (value_is_str(to_v))
			w_text(w, to_v->u.str);
		else
			w_puts(w, "NONE");
		w_puts(w, ";\n");
		return;
	}
	for (size_t i = 0; i < sizeof(sequence_options) / sizeof(sequence_options[0]); i++)
		if (strcmp(attr, sequence_options[i].attr) == 0 && to_v && to_v->type == MODEL_INT) {
			fprintf(w->f, "%s%lld;\n", sequence_options[i].word, to_v->u.i);
			return;
		}
	w->bad = true;
}

int sql_alter(const struct model *m, const struct model_object *o, const char *attr,
	      const struct model_value *from_v, const struct model_value *to_v, char **ret)
{
	struct w w;
	int r;

	if ((r = w_open(&w)) < 0)
		return r;
	if (strcmp(attr, "comment") == 0 && kind_words[o->kind]) {
		w_comment(&w, o, value_is_str(to_v) ? to_v->u.str : NULL);
	} else if (strcmp(attr, "owner") == 0 && value_is_str(to_v) && kind_words[o->kind] &&
		   o->kind != MODEL_EXTENSION) {
		w_puts(&w, "ALTER ");
		w_puts(&w, kind_words[o->kind]);
		w_puts(&w, " ");
		w_object(&w, o);
		w_puts(&w, " OWNER TO ");
		w_ident(&w, to_v->u.str);
		w_puts(&w, ";\n");
	} else if (strcmp(attr, "acl") == 0) {
		struct acl_target t = { .o = o };
		char builtin[2][300];
		const char *items[2];
		struct model_value def;

		if (o->kind == MODEL_DEFAULT_PRIVILEGES && !adp_target(m, o, &t, builtin, &def, items))
			w.bad = true;
		if (o->kind == MODEL_COLUMN)
			t.column = o->name;
		w_acl_change(&w, &t, acl_owner(m, o), from_v, to_v);
	} else if (o->kind == MODEL_COLUMN) {
		w_alter_column(&w, m, o, attr, to_v);
	} else if (o->kind == MODEL_TRIGGER && strcmp(attr, "enabled") == 0) {
		w_enable_trigger(&w, m, o, to_v);
	} else if ((o->kind == MODEL_VIEW) &&
		   (strcmp(attr, "definition") == 0 || strcmp(attr, "options") == 0)) {
		w_view(&w, o, true);
	} else if ((o->kind == MODEL_FUNCTION || o->kind == MODEL_PROCEDURE) &&
		   strcmp(attr, "arguments") != 0 && strcmp(attr, "returns") != 0 &&
		   strcmp(attr, "window") != 0) {
		w_routine(&w, o);
	} else if (o->kind == MODEL_SEQUENCE) {
		w_alter_sequence(&w, o, attr, to_v);
	} else {
		w.bad = true;
	}
	return w_close(&w, ret);
}

int sql_rename(const struct model *m, const struct model_object *o, const char *new_name,
	       char **ret)
{
	struct w w;
	int r;

	if ((r = w_open(&w)) < 0)
		return r;
	if (o->kind == MODEL_COLUMN || o->kind == MODEL_CONSTRAINT) {
		const char *alter = alter_parent(m, o);

		if (!alter)
			w.bad = true;
		w_puts(&w, alter ? alter : "");
		w_qname(&w, o->schema, o->parent);
		w_puts(&w, o->kind == MODEL_COLUMN ? " RENAME COLUMN " : " RENAME CONSTRAINT ");
		w_ident(&w, o->name);
		w_puts(&w, " TO ");
	} else if (kind_words[o->kind] && o->kind != MODEL_EXTENSION) {
		w_puts(&w, "ALTER ");
		w_puts(&w, kind_words[o->kind]);
		w_puts(&w, " ");
		w_object(&w, o);
		w_puts(&w, " RENAME TO ");
	} else {
		w.bad = true;
	}
	w_ident(&w, new_name);
	w_puts(&w, ";\n");
	return w_close(&w, ret);
}

bool sql_acl_follows_owner(const struct model_value *from_v, const struct model_value *to_v,
			   const char *old_owner, const char *new_owner)
{
	struct acl_item *from = NULL, *to = NULL;
	size_t nf = 0, nt = 0;
	bool same = acl_list(from_v, &from, &nf) && acl_list(to_v, &to, &nt) && nf == nt;

	/* ALTER ... OWNER TO puts the new owner wherever the old one was named. */
	for (size_t i = 0; same && i < nf; i++) {
		struct acl_item x = from[i];

		if (strcmp(x.grantee, old_owner) == 0)
			snprintf(x.grantee, sizeof(x.grantee), "%s", new_owner);
		if (strcmp(x.grantor, old_owner) == 0)
			snprintf(x.grantor, sizeof(x.grantor), "%s", new_owner);
		const struct acl_item *y = acl_find(to, nt, &x);
		same = y && strcmp(y->privs, x.privs) == 0 && strcmp(y->options, x.options) == 0;
	}
	free(from);
	free(to);
	return same;
}
