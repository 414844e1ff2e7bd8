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
 * every privilege of its server is compared without the m; a MAINTAIN
 * granted alone is a real difference and stays one.
 */
#define RELATION_ALL_16 "arwdDxt"

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
 * item into buf (as large as item), with the m left out when its
 * privileges are exactly arwdDxtm, all with or all without grant option;
 * else a copy.  Grantee and grantor may be quoted and hold '=' or '/': the
 * privileges follow the last unquoted '=', up to the last '/'.
 */
static void acl_item_all_16(const char *item, char *buf, size_t size)
{
	const char *eq = NULL, *slash = strrchr(item, '/');
	size_t letters = 0, grants = 0, n;
	bool quoted = false, has_m = false;

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
		else if (*p == 'm')
			has_m = true, letters++;
		else if (strchr(RELATION_ALL_16, *p))
			letters++;
		else
			goto copy;
	}
	if (!has_m || letters != strlen(RELATION_ALL_16) + 1 || (grants && grants != letters))
		goto copy;
	n = (size_t)(eq + 1 - item);
	memcpy(buf, item, n);
	for (const char *l = RELATION_ALL_16; *l; l++) {
		buf[n++] = *l;
		if (grants)
			buf[n++] = '*';
	}
	snprintf(buf + n, size - n, "%s", slash);
	return;
copy:
	snprintf(buf, size, "%s", item);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The items of v, those holding ALL written as up to 16, sorted; NULL on ENOMEM. */
static char **acl_items_16(const struct model_value *v)
{
	char **items = calloc(v->u.list.n + 1, sizeof(*items));

	if (!items)
		return NULL;
	for (size_t i = 0; i < v->u.list.n; i++) {
		size_t size = strlen(v->u.list.items[i]) + 1;

		if (!(items[i] = malloc(size))) {
			for (size_t k = 0; k < i; k++)
				free(items[k]);
			free(items);
			return NULL;
		}
		acl_item_all_16(v->u.list.items[i], items[i], size);
	}
	qsort(items, v->u.list.n, sizeof(*items), str_cmp);
	return items;
}

bool diff_server_acl_equal(const struct model_object *o, const char *attr, int from_major,
			   int to_major, const struct model_value *a, const struct model_value *b)
{
	char **x, **y;
	bool same;

	if (!from_major || !to_major || (from_major >= 17) == (to_major >= 17) ||
	    strcmp(attr, "acl") != 0 || !relation_acl(o) || !a || !b || a->type != MODEL_LIST ||
	    b->type != MODEL_LIST || a->u.list.n != b->u.list.n)
		return false;
	x = acl_items_16(a);
	y = acl_items_16(b);
	same = x && y;
	for (size_t i = 0; same && i < a->u.list.n; i++)
		same = strcmp(x[i], y[i]) == 0;
	for (size_t i = 0; i < a->u.list.n; i++) {
		if (x)
			free(x[i]);
		if (y)
			free(y[i]);
	}
	free(x);
	free(y);
	return same;
}

/* ---- deparsed text ---- */

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
	/* Each server ships its own default version of its contrib extensions,
	 * which a dump and restore installs. */
	{ MODEL_EXTENSION, "version" },
};

/* A SQL-standard body (BEGIN ATOMIC ..., RETURN ...) is deparsed; any other is the text as written. */
static bool sql_standard_body(const struct model_value *v)
{
	return v && v->type == MODEL_STR &&
	       (strncmp(v->u.str, "BEGIN ATOMIC", 12) == 0 || strncmp(v->u.str, "RETURN ", 7) == 0);
}

bool diff_server_rendered(const struct diff_change *c)
{
	const struct model_object *o = c->after ? c->after : c->before;

	if (c->type != DIFF_MODIFIED || !c->old_value || !c->new_value)
		return false;
	if ((o->kind == MODEL_FUNCTION || o->kind == MODEL_PROCEDURE) &&
	    strcmp(c->attribute, "body") == 0)
		return sql_standard_body(c->old_value) && sql_standard_body(c->new_value);
	for (size_t i = 0; i < sizeof(rendered) / sizeof(rendered[0]); i++)
		if (rendered[i].kind == o->kind && strcmp(rendered[i].attr, c->attribute) == 0)
			return true;
	return false;
}
