/* What two PostgreSQL majors say differently about one schema: privilege defaults, deparsed text. */
#include "diff_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int diff_server_major(const char *server_version)
{
	long v;
	char *end;

	if (!server_version)
		return 0;
	v = strtol(server_version, &end, 10);
	/* "15.4 (Debian 15.4-1)", "18.0", "18beta1", "9.6.24" (9: too old to matter) */
	if (end == server_version || v <= 0 || v > 1000)
		return 0;
	return (int)v;
}

/* ---- privileges ----
 *
 * PostgreSQL 17 added MAINTAIN (m) to a relation's privileges, so ALL on a
 * table is arwdDxt up to 16 and arwdDxtm from 17 on: the owner's default
 * privileges, and every GRANT ALL, read differently on each side of an
 * upgrade though nobody changed them.  Across that line, an item that holds
 * every privilege of its own server reads as ALL on both sides; anything
 * else (a MAINTAIN granted alone, an owner without it) stays as it is.
 */

static bool relation_acl(const struct model_object *o)
{
	const struct model_attr *t;

	switch (o->kind) {
	case MODEL_TABLE:
	case MODEL_FOREIGN_TABLE:
	case MODEL_VIEW:
	case MODEL_MATERIALIZED_VIEW:
		return true;
	case MODEL_DEFAULT_PRIVILEGES:
		t = model_object_attr(o, "object_type");
		return t && t->value.type == MODEL_STR && strcmp(t->value.u.str, "tables") == 0;
	default:
		return false;
	}
}

/*
 * item into buf (at least as large as item plus 4), its privileges written
 * ALL (ALL* with grant option) when they are exactly all of a relation's
 * on a server of this major, all with or all without grant option.
 * Grantee and grantor may be quoted and hold '=' or '/': the privileges
 * follow the last unquoted '=', up to the last '/'.
 */
static void acl_item_canonical(const char *item, int major, char *buf, size_t size)
{
	const char *all = major >= 17 ? "arwdDxtm" : "arwdDxt";
	const char *eq = NULL, *slash = strrchr(item, '/');
	size_t letters = 0, grants = 0;
	bool quoted = false;

	for (const char *p = item; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '=' && !quoted)
			eq = p;
	}
	if (!eq || !slash || slash < eq)
		goto copy;
	for (const char *p = eq + 1; p < slash; p++) {
		if (*p == '*')
			grants++;
		else if (strchr(all, *p))
			letters++;
		else
			goto copy;
	}
	/* PostgreSQL never repeats a letter in an item. */
	if (letters != strlen(all) || (grants && grants != letters))
		goto copy;
	snprintf(buf, size, "%.*sALL%s%s", (int)(eq + 1 - item), item, grants ? "*" : "", slash);
	return;
copy:
	snprintf(buf, size, "%s", item);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_items(char **items, size_t n)
{
	if (!items)
		return;
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

/* The items of v, as acl_item_canonical writes them, sorted; NULL on ENOMEM. */
static char **acl_items_canonical(const struct model_value *v, int major)
{
	char **items = calloc(v->u.list.n + 1, sizeof(*items));

	if (!items)
		return NULL;
	for (size_t i = 0; i < v->u.list.n; i++) {
		size_t size = strlen(v->u.list.items[i]) + 5;

		if (!(items[i] = malloc(size))) {
			free_items(items, i);
			return NULL;
		}
		acl_item_canonical(v->u.list.items[i], major, items[i], size);
	}
	qsort(items, v->u.list.n, sizeof(*items), str_cmp);
	return items;
}

bool diff_server_equal(const struct model_object *o, const char *attr, int from_major,
		       int to_major, const struct model_value *a, const struct model_value *b)
{
	char **x, **y;
	bool same;

	if (!from_major || !to_major || (from_major >= 17) == (to_major >= 17) ||
	    strcmp(attr, "acl") != 0 || !relation_acl(o) || a->type != MODEL_LIST ||
	    b->type != MODEL_LIST)
		return model_value_equal(a, b);
	if (a->u.list.n != b->u.list.n)
		return false;
	x = acl_items_canonical(a, from_major);
	y = acl_items_canonical(b, to_major);
	same = x && y;
	for (size_t i = 0; same && i < a->u.list.n; i++)
		same = strcmp(x[i], y[i]) == 0;
	free_items(x, a->u.list.n);
	free_items(y, b->u.list.n);
	return same;
}

/* ---- deparsed text ----
 *
 * Each major deparses a stored definition in its own way: 16 stopped
 * qualifying the columns of a query's only table (orders.placed, now
 * placed), and line breaks and indentation move.  Two texts are taken for
 * one definition rendered twice when they read the same without
 * whitespace and without the qualifiers in front of names; a definition
 * that says anything else (another column, another condition) is a change.
 */

static bool ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/* The end of the identifier (plain or "quoted") at p, or p when there is none. */
static const char *ident_end(const char *p)
{
	if (*p == '"') {
		for (p++; *p; p++)
			if (*p == '"' && *++p != '"')
				return p;
		return p;
	}
	if (!ident_char(*p) || (*p >= '0' && *p <= '9'))
		return p;
	while (ident_char(*p))
		p++;
	return p;
}

/* s without whitespace and name qualifiers (literals kept as they are); malloc'd. */
static char *unqualified(const char *s)
{
	char *out = malloc(strlen(s) + 1), *w = out;

	if (!out)
		return NULL;
	while (*s) {
		const char *e;

		if (*s == '\'') {
			/* A literal, '' inside it included, as it is. */
			do {
				*w++ = *s++;
				if (*s == '\'' && s[1] == '\'')
					*w++ = *s++, *w++ = *s++;
			} while (*s && *s != '\'');
			if (*s)
				*w++ = *s++;
		} else if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') {
			s++;
		} else if ((e = ident_end(s)) != s) {
			if (*e == '.' && ident_end(e + 1) != e + 1) {
				s = e + 1; /* a qualifier: left out */
			} else {
				memcpy(w, s, (size_t)(e - s));
				w += e - s;
				s = e;
			}
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
	return out;
}

static bool str_rendered_alike(const char *a, const char *b)
{
	char *x = unqualified(a), *y = unqualified(b);
	bool same = x && y && strcmp(x, y) == 0;

	free(x);
	free(y);
	return same;
}

static bool rendered_alike(const struct model_value *a, const struct model_value *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == MODEL_STR)
		return str_rendered_alike(a->u.str, b->u.str);
	if (a->type != MODEL_LIST || a->u.list.n != b->u.list.n)
		return false;
	for (size_t i = 0; i < a->u.list.n; i++)
		if (!str_rendered_alike(a->u.list.items[i], b->u.list.items[i]))
			return false;
	return true;
}

static const struct {
	enum model_kind kind;
	const char *attr;
} rendered[] = {
	{ MODEL_VIEW, "definition" },
	{ MODEL_MATERIALIZED_VIEW, "definition" },
	{ MODEL_RULE, "definition" },
	{ MODEL_CONSTRAINT, "definition" },
	{ MODEL_INDEX, "definition" },
	{ MODEL_INDEX, "predicate" },
	{ MODEL_STATISTICS, "definition" },
	{ MODEL_COLUMN, "default" },
	{ MODEL_COLUMN, "generated" },
	{ MODEL_DOMAIN, "default" },
	{ MODEL_DOMAIN, "constraints" },
	{ MODEL_POLICY, "using" },
	{ MODEL_POLICY, "with_check" },
	{ MODEL_TRIGGER, "when" },
	{ MODEL_TABLE, "partition_key" },
	{ MODEL_TABLE, "partition_bound" },
	{ MODEL_FOREIGN_TABLE, "partition_bound" },
	/* Argument defaults are deparsed expressions. */
	{ MODEL_FUNCTION, "arguments" },
	{ MODEL_PROCEDURE, "arguments" },
};

/* A SQL-standard body (BEGIN ATOMIC ..., RETURN ...) is deparsed; any other is the text as written. */
static bool sql_standard_body(const struct model_value *v)
{
	return v && v->type == MODEL_STR &&
	       (strncmp(v->u.str, "BEGIN ATOMIC", 12) == 0 || strncmp(v->u.str, "RETURN ", 7) == 0);
}

bool diff_server_rendered(const struct diff_change *c, int from_major, int to_major)
{
	const struct model_object *o = c->after ? c->after : c->before;

	if (c->type != DIFF_MODIFIED)
		return false;
	/* Up to 17 a NOT NULL has no name; 18 names the one CREATE TABLE ... (LIKE)
	 * copies after its source. */
	if (o->kind == MODEL_COLUMN && strcmp(c->attribute, "not_null_name") == 0)
		return (from_major < 18) != (to_major < 18);
	if (!c->old_value || !c->new_value)
		return false;
	/* Each server ships its own default version of its contrib extensions,
	 * and a dump and restore installs that one. */
	if (o->kind == MODEL_EXTENSION && strcmp(c->attribute, "version") == 0)
		return true;
	if ((o->kind == MODEL_FUNCTION || o->kind == MODEL_PROCEDURE) &&
	    strcmp(c->attribute, "body") == 0)
		return sql_standard_body(c->old_value) && sql_standard_body(c->new_value) &&
		       rendered_alike(c->old_value, c->new_value);
	for (size_t i = 0; i < sizeof(rendered) / sizeof(rendered[0]); i++)
		if (rendered[i].kind == o->kind && strcmp(rendered[i].attr, c->attribute) == 0)
			return rendered_alike(c->old_value, c->new_value);
	return false;
}
