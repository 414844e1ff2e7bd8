/* Noise control: include/exclude globs, ignored kinds and attributes, whitespace-blind bodies. */
#include "filter.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

const char *const filter_groups[] = { "privileges", "ownership", "comments", "column-order",
				      "body-whitespace", NULL };

void filter_init(struct filter *f)
{
	memset(f, 0, sizeof(*f));
}

static void list_free(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void filter_done(struct filter *f)
{
	if (!f)
		return;
	list_free(f->include, f->n_include);
	list_free(f->exclude, f->n_exclude);
	list_free(f->include_schema, f->n_include_schema);
	list_free(f->exclude_schema, f->n_exclude_schema);
	list_free(f->ignore_attr, f->n_ignore_attr);
	filter_init(f);
}

bool filter_is_empty(const struct filter *f)
{
	if (f->n_include || f->n_exclude || f->n_include_schema || f->n_exclude_schema ||
	    f->n_ignore_attr || f->body_whitespace)
		return false;
	for (int k = 0; k < MODEL_KIND_COUNT; k++)
		if (f->ignore_kind[k])
			return false;
	return true;
}

int filter_add(char ***list, size_t *n, const char *pattern)
{
	char **p = realloc(*list, (*n + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	*list = p;
	p[*n] = strdup(pattern);
	if (!p[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static bool kind_has_attr(enum model_kind k, const char *attr)
{
	for (const char *const *a = model_kind_info(k)->attrs; *a; a++)
		if (strcmp(*a, attr) == 0)
			return true;
	return false;
}

static int ignore_one(struct filter *f, const char *name, struct error *err)
{
	enum model_kind kind;
	const char *dot;

	if (strcmp(name, "privileges") == 0) {
		f->ignore_kind[MODEL_DEFAULT_PRIVILEGES] = true;
		return filter_add(&f->ignore_attr, &f->n_ignore_attr, "acl");
	}
	if (strcmp(name, "ownership") == 0)
		return filter_add(&f->ignore_attr, &f->n_ignore_attr, "owner");
	if (strcmp(name, "comments") == 0)
		return filter_add(&f->ignore_attr, &f->n_ignore_attr, "comment");
	if (strcmp(name, "column-order") == 0)
		return filter_add(&f->ignore_attr, &f->n_ignore_attr, "column.position");
	if (strcmp(name, "body-whitespace") == 0) {
		f->body_whitespace = true;
		return 0;
	}
	if (model_kind_from_name(name, &kind) == 0) {
		f->ignore_kind[kind] = true;
		return 0;
	}
	dot = strchr(name, '.');
	if (dot) {
		char kname[64];
		snprintf(kname, sizeof(kname), "%.*s", (int)(dot - name), name);
		if (model_kind_from_name(kname, &kind) == 0 && kind_has_attr(kind, dot + 1))
			return filter_add(&f->ignore_attr, &f->n_ignore_attr, name);
	} else {
		for (int k = 0; k < MODEL_KIND_COUNT; k++)
			if (kind_has_attr((enum model_kind)k, name))
				return filter_add(&f->ignore_attr, &f->n_ignore_attr, name);
	}
	return error_set(err, -EINVAL,
			 "--ignore: unknown '%s' (a group: privileges, ownership, comments, "
			 "column-order, body-whitespace; a kind; an attribute; or kind.attribute "
			 "— `schemadrift kinds` lists them)", name);
}

int filter_parse_ignore(struct filter *f, const char *list, struct error *err)
{
	char *copy = strdup(list), *save = NULL;
	int r = 0;

	if (!copy)
		return error_set(err, -ENOMEM, "out of memory");
	for (char *tok = strtok_r(copy, ", ", &save); tok && r == 0;
	     tok = strtok_r(NULL, ", ", &save))
		r = ignore_one(f, tok, err);
	free(copy);
	return r;
}

static bool any_match(char *const *patterns, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(patterns[i], name, 0) == 0)
			return true;
	return false;
}

/* Whether an object survives the name and schema filters. */
static bool keep_object(const struct model_object *o, const struct filter *f)
{
	const char *schema = o->kind == MODEL_SCHEMA ? o->name : o->schema;
	char own[1024], parent[1024];

	if (f->ignore_kind[o->kind])
		return false;
	if (schema) {
		if (any_match(f->exclude_schema, f->n_exclude_schema, schema))
			return false;
		if (f->n_include_schema &&
		    !any_match(f->include_schema, f->n_include_schema, schema))
			return false;
	}
	if (o->kind == MODEL_SCHEMA)
		return true;
	if (o->schema) {
		snprintf(own, sizeof(own), "%s.%s", o->schema, o->name);
		snprintf(parent, sizeof(parent), "%s.%s", o->schema, o->parent ? o->parent : "");
	} else {
		snprintf(own, sizeof(own), "%s", o->name);
		parent[0] = '\0';
	}
	bool by_parent = o->parent != NULL;
	if (any_match(f->exclude, f->n_exclude, own) ||
	    (by_parent && any_match(f->exclude, f->n_exclude, parent)))
		return false;
	if (f->n_include && !any_match(f->include, f->n_include, own) &&
	    !(by_parent && any_match(f->include, f->n_include, parent)))
		return false;
	return true;
}

static bool ignore_attr(const struct model_object *o, const char *attr, const struct filter *f)
{
	const char *kind = model_kind_info(o->kind)->name;
	size_t klen = strlen(kind);

	for (size_t i = 0; i < f->n_ignore_attr; i++) {
		const char *p = f->ignore_attr[i];
		if (strcmp(p, attr) == 0)
			return true;
		if (strncmp(p, kind, klen) == 0 && p[klen] == '.' && strcmp(p + klen + 1, attr) == 0)
			return true;
	}
	return false;
}

static bool is_sql_text(const struct model_object *o, const char *attr)
{
	return (strcmp(attr, "body") == 0 &&
		(o->kind == MODEL_FUNCTION || o->kind == MODEL_PROCEDURE)) ||
	       (strcmp(attr, "definition") == 0 &&
		(o->kind == MODEL_VIEW || o->kind == MODEL_MATERIALIZED_VIEW ||
		 o->kind == MODEL_RULE));
}

/* Whether the aclitem name at p (up to end) is the role name `role`. */
static bool acl_name_is(const char *p, size_t n, const char *role)
{
	size_t rl = strlen(role);

	if (n == rl && strncmp(p, role, n) == 0)
		return true;
	return n == rl + 2 && p[0] == '"' && p[n - 1] == '"' && strncmp(p + 1, role, rl) == 0;
}

/*
 * With ownership ignored, an owner change must not show through the ACL,
 * which PostgreSQL rewrites to name the new owner: the owner's own entries
 * and grants read "(owner)" instead of the role's name.
 */
static int acl_without_owner(struct model *m, struct model_attr *acl, const char *owner)
{
	const char **items;
	size_t n = acl->value.u.list.n;

	if (n == 0)
		return 0;
	items = calloc(n, sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *it = acl->value.u.list.items[i], *eq = strchr(it, '='),
			   *slash = strrchr(it, '/');
		char buf[1024];

		items[i] = it;
		if (!eq || !slash || slash < eq)
			continue;
		bool g = acl_name_is(it, (size_t)(eq - it), owner);
		bool o = acl_name_is(slash + 1, strlen(slash + 1), owner);
		if (!g && !o)
			continue;
		snprintf(buf, sizeof(buf), "%.*s=%.*s/%s", g ? 7 : (int)(eq - it), g ? "(owner)" : it,
			 (int)(slash - eq - 1), eq + 1, o ? "(owner)" : slash + 1);
		items[i] = model_strdup(m, buf);
		if (!items[i]) {
			free(items);
			return -ENOMEM;
		}
	}
	/* Still a set: sorted again, bytewise. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(items[j - 1], items[j]) > 0; j--) {
			const char *t = items[j];
			items[j] = items[j - 1];
			items[j - 1] = t;
		}
	const char **copy = model_alloc(m, n * sizeof(*items));
	if (!copy) {
		free(items);
		return -ENOMEM;
	}
	memcpy(copy, items, n * sizeof(*items));
	free(items);
	acl->value.u.list.items = copy;
	return 0;
}

int filter_apply(struct model *m, const struct filter *f)
{
	size_t out = 0;

	for (size_t i = 0; i < m->n_objects; i++) {
		struct model_object *o = &m->objects[i];
		size_t keep = 0;

		if (!keep_object(o, f))
			continue;
		const struct model_attr *owner = model_object_attr(o, "owner");
		if (owner && owner->value.type == MODEL_STR && ignore_attr(o, "owner", f)) {
			struct model_attr *acl = (struct model_attr *)model_object_attr(o, "acl");
			if (acl && acl->value.type == MODEL_LIST &&
			    acl_without_owner(m, acl, owner->value.u.str) < 0)
				return -ENOMEM;
		}
		for (size_t a = 0; a < o->n_attrs; a++) {
			struct model_attr *at = &o->attrs[a];
			if (ignore_attr(o, at->name, f))
				continue;
			if (f->body_whitespace && at->value.type == MODEL_STR &&
			    is_sql_text(o, at->name)) {
				char *norm = filter_normalize_sql(at->value.u.str);
				if (!norm)
					return -ENOMEM;
				at->value.u.str = model_strdup(m, norm);
				free(norm);
				if (!at->value.u.str)
					return -ENOMEM;
			}
			o->attrs[keep++] = *at;
		}
		o->n_attrs = keep;
		m->objects[out++] = *o;
	}
	m->n_objects = out;
	m->hashed = false;
	return 0;
}

/* ---- whitespace-blind SQL ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c >= 0x80;
}

static bool is_op(char c)
{
	return c && strchr("+-*/<>=~!@#%^&|`?", c) != NULL;
}

/* Length of the token at p (never 0 unless at the end). */
static size_t token_len(const char *p)
{
	const char *q = p;

	if (p[0] == '-' && p[1] == '-') { /* line comment, to the end of the line */
		while (*q && *q != '\n')
			q++;
		return (size_t)(q - p);
	}
	if (p[0] == '/' && p[1] == '*') { /* block comment; they nest in PostgreSQL */
		int depth = 0;
		while (*q) {
			if (q[0] == '/' && q[1] == '*') {
				depth++;
				q += 2;
			} else if (q[0] == '*' && q[1] == '/') {
				q += 2;
				if (--depth == 0)
					break;
			} else {
				q++;
			}
		}
		return (size_t)(q - p);
	}
	if (*p == '\'' || *p == '"' ||
	    ((*p == 'E' || *p == 'e') && p[1] == '\'')) { /* quoted; E'' takes backslashes */
		bool backslash = *p == 'E' || *p == 'e';
		char quote = backslash ? '\'' : *p;
		q = p + (backslash ? 2 : 1);
		while (*q) {
			if (backslash && *q == '\\' && q[1]) {
				q += 2;
			} else if (*q == quote && q[1] == quote) {
				q += 2;
			} else if (*q == quote) {
				q++;
				break;
			} else {
				q++;
			}
		}
		return (size_t)(q - p);
	}
	if (*p == '$' && !(p[1] >= '0' && p[1] <= '9')) { /* $tag$ ... $tag$; $1 is a parameter */
		const char *t = p + 1;
		while (*t && *t != '$' && is_word((unsigned char)*t))
			t++;
		if (*t == '$') {
			size_t tag = (size_t)(t - p) + 1;
			const char *end = t + 1;
			while ((end = strchr(end, '$')) && strncmp(end, p, tag) != 0)
				end++;
			return end ? (size_t)(end + tag - p) : strlen(p);
		}
	}
	if (is_word((unsigned char)*p)) {
		while (is_word((unsigned char)*q))
			q++;
		return (size_t)(q - p);
	}
	if (is_op(*p)) {
		while (is_op(*q) && !(q[0] == '-' && q[1] == '-') && !(q[0] == '/' && q[1] == '*'))
			q++;
		return q > p ? (size_t)(q - p) : 1;
	}
	return 1;
}

char *filter_normalize_sql(const char *text)
{
	struct strbuf o = { 0 };
	const char *p = text;
	bool need_sep = false, after_line_comment = false;

	while (*p) {
		if (is_space(*p)) {
			p++;
			continue;
		}
		size_t n = token_len(p);
		if (need_sep)
			strbuf_put(&o, after_line_comment ? "\n" : " ", 1);
		strbuf_put(&o, p, n);
		after_line_comment = p[0] == '-' && p[1] == '-';
		need_sep = true;
		p += n;
	}
	return strbuf_take(&o);
}
