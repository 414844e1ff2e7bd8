/* The schema model: arena-backed objects, canonical ordering, human names. */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Chunks grow from ARENA_FIRST to ARENA_CHUNK, doubling: a model of a few
 * objects (a small database's baseline, which the daemon keeps while it
 * drifts) takes a few KiB, not 64. */
#define ARENA_FIRST (2 * 1024)
#define ARENA_CHUNK (64 * 1024)

struct model_arena_chunk {
	struct model_arena_chunk *next;
	size_t used, size;
	_Alignas(max_align_t) unsigned char data[];
};

#define ATTRS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define OWNED "owner", "acl", "comment"

static const struct model_kind_info kind_table[MODEL_KIND_COUNT] = {
	[MODEL_EXTENSION] = { "extension", "extension", false, false,
		ATTRS("version", "schema", "comment") },
	[MODEL_FOREIGN_DATA_WRAPPER] = { "foreign_data_wrapper", "foreign-data wrapper", false,
		false, ATTRS("handler", "validator", "options", OWNED) },
	[MODEL_FOREIGN_SERVER] = { "foreign_server", "foreign server", false, false,
		ATTRS("wrapper", "type", "version", "options", OWNED) },
	[MODEL_PUBLICATION] = { "publication", "publication", false, false,
		ATTRS("all_tables", "operations", "via_root", "tables", "schemas", "owner",
		      "comment") },
	[MODEL_EVENT_TRIGGER] = { "event_trigger", "event trigger", false, false,
		ATTRS("event", "tags", "function", "enabled", "owner", "comment") },
	[MODEL_DEFAULT_PRIVILEGES] = { "default_privileges", "default privileges", false, false,
		ATTRS("role", "object_type", "acl") },
	[MODEL_DATABASE_SETTING] = { "database_setting", "database setting", false, false,
		ATTRS("value") },
	[MODEL_SCHEMA] = { "schema", "schema", false, false, ATTRS(OWNED) },
	[MODEL_COLLATION] = { "collation", "collation", false, false,
		ATTRS("provider", "locale", "lc_collate", "lc_ctype", "deterministic", "owner",
		      "comment") },
	[MODEL_TYPE] = { "type", "type", false, false,
		ATTRS("type", "labels", "attributes", "subtype", "subtype_opclass", "collation",
		      "canonical", "subtype_diff", "input", "output", OWNED) },
	[MODEL_DOMAIN] = { "domain", "domain", false, false,
		ATTRS("base_type", "not_null", "default", "collation", "constraints", OWNED) },
	[MODEL_FUNCTION] = { "function", "function", false, false,
		ATTRS("arguments", "returns", "language", "body", "volatility", "strict",
		      "security_definer", "leakproof", "parallel", "cost", "rows", "config",
		      "window", OWNED) },
	[MODEL_PROCEDURE] = { "procedure", "procedure", false, false,
		ATTRS("arguments", "language", "body", "security_definer", "config", OWNED) },
	[MODEL_AGGREGATE] = { "aggregate", "aggregate", false, false,
		ATTRS("arguments", "returns", "aggregate_kind", "transition_function",
		      "state_type", "final_function", "combine_function", "initial_value",
		      "sort_operator", "parallel", OWNED) },
	[MODEL_TABLE] = { "table", "table", false, false,
		ATTRS("unlogged", "partition_key", "partition_of", "partition_bound", "inherits",
		      "row_security", "force_row_security", "options", "tablespace",
		      "access_method", "replica_identity", "of_type", OWNED) },
	[MODEL_FOREIGN_TABLE] = { "foreign_table", "foreign table", false, false,
		ATTRS("server", "options", "partition_of", "partition_bound", "inherits", OWNED) },
	[MODEL_VIEW] = { "view", "view", false, false, ATTRS("definition", "options", OWNED) },
	[MODEL_MATERIALIZED_VIEW] = { "materialized_view", "materialized view", false, false,
		ATTRS("definition", "options", "tablespace", "access_method", OWNED) },
	[MODEL_SEQUENCE] = { "sequence", "sequence", false, false,
		ATTRS("type", "start", "increment", "min", "max", "cache", "cycle", "owned_by",
		      "unlogged", OWNED) },
	[MODEL_COLUMN] = { "column", "column", true, false,
		ATTRS("position", "type", "not_null", "not_null_name", "not_null_validated",
		      "not_null_no_inherit", "default", "identity", "generated", "virtual",
		      "collation", "storage", "compression", "statistics", "options", "fdw_options",
		      "acl", "comment") },
	[MODEL_CONSTRAINT] = { "constraint", "constraint", true, false,
		ATTRS("type", "definition", "deferrable", "deferred", "validated", "references",
		      "on_update", "on_delete", "match", "enforced", "triggers", "comment") },
	[MODEL_INDEX] = { "index", "index", true, true,
		ATTRS("definition", "method", "unique", "predicate", "valid", "tablespace",
		      "replica_identity", "statistics", "comment") },
	[MODEL_TRIGGER] = { "trigger", "trigger", true, false,
		ATTRS("timing", "events", "level", "columns", "when", "function", "arguments",
		      "enabled", "constraint", "comment") },
	[MODEL_RULE] = { "rule", "rule", true, false,
		ATTRS("definition", "event", "enabled", "comment") },
	[MODEL_POLICY] = { "policy", "policy", true, false,
		ATTRS("command", "roles", "permissive", "using", "with_check", "comment") },
	[MODEL_STATISTICS] = { "statistics", "statistics object", true, true,
		ATTRS("definition", "owner", "comment") },
};

const struct model_kind_info *model_kind_info(enum model_kind kind)
{
	if ((unsigned)kind >= MODEL_KIND_COUNT)
		return NULL;
	return &kind_table[kind];
}

int model_kind_from_name(const char *name, enum model_kind *ret)
{
	for (int k = 0; k < MODEL_KIND_COUNT; k++)
		if (strcmp(kind_table[k].name, name) == 0) {
			*ret = (enum model_kind)k;
			return 0;
		}
	return -ENOENT;
}

static void *arena_alloc(struct model *m, size_t n)
{
	struct model_arena_chunk *c = m->arena;
	size_t align = _Alignof(max_align_t);

	/* Strings advance `used` by odd amounts: realign before handing out. */
	n = (n + align - 1) & ~(align - 1);
	if (c)
		c->used = (c->used + align - 1) & ~(align - 1);
	if (!c || c->used > c->size || c->size - c->used < n) {
		size_t size = !c ? ARENA_FIRST : c->size >= ARENA_CHUNK / 2 ? ARENA_CHUNK : c->size * 2;

		if (size < n)
			size = n;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->used = 0;
		c->size = size;
		c->next = m->arena;
		m->arena = c;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

void *model_alloc(struct model *m, size_t n)
{
	return arena_alloc(m, n);
}

const char *model_strndup(struct model *m, const char *s, size_t n)
{
	char *p;

	/* Strings need no alignment: take them from the chunk byte by byte. */
	struct model_arena_chunk *c = m->arena;
	if (c && c->size - c->used >= n + 1) {
		p = (char *)c->data + c->used;
		c->used += n + 1;
	} else {
		p = arena_alloc(m, n + 1);
		if (!p)
			return NULL;
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

const char *model_strdup(struct model *m, const char *s)
{
	return s ? model_strndup(m, s, strlen(s)) : NULL;
}

/* A copy of s, or the previous object's identical string. */
static const char *model_intern(struct model *m, const char *s)
{
	if (!s)
		return NULL;
	if (m->n_objects) {
		const struct model_object *prev = &m->objects[m->n_objects - 1];
		const char *cand[] = { prev->schema, prev->parent, prev->name };
		for (size_t i = 0; i < 3; i++)
			if (cand[i] && strcmp(cand[i], s) == 0)
				return cand[i];
	}
	return model_strdup(m, s);
}

int model_new(struct model **ret)
{
	struct model *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	*ret = m;
	return 0;
}

void model_free(struct model *m)
{
	if (!m)
		return;
	while (m->arena) {
		struct model_arena_chunk *next = m->arena->next;
		free(m->arena);
		m->arena = next;
	}
	free(m->objects);
	free(m->pending);
	free(m);
}

size_t model_heap_bytes(const struct model *m)
{
	size_t n = sizeof(*m) + m->cap_objects * sizeof(*m->objects) +
		   m->cap_pending * sizeof(*m->pending);

	for (const struct model_arena_chunk *c = m->arena; c; c = c->next)
		n += sizeof(*c) + c->size;
	return n;
}

/* Marks the object being built as failed; model_end() reports it. */
static int build_fail(struct model *m, int code)
{
	m->building.kind = MODEL_KIND_COUNT; /* marks the object as failed */
	return code;
}

int model_begin(struct model *m, enum model_kind kind, const char *schema,
		const char *parent, const char *name, const char *signature)
{
	if (m->in_object || (unsigned)kind >= MODEL_KIND_COUNT || !name)
		return -EINVAL;
	m->in_object = true;
	m->n_pending = 0;
	memset(&m->building, 0, sizeof(m->building));
	m->building.kind = kind;
	/* Objects arrive grouped by table and schema: share the previous
	 * object's copy of the same string instead of copying it again. */
	m->building.schema = model_intern(m, schema);
	m->building.parent = model_intern(m, parent);
	m->building.name = model_strdup(m, name);
	m->building.signature = model_strdup(m, signature);
	if ((schema && !m->building.schema) || (parent && !m->building.parent) ||
	    !m->building.name || (signature && !m->building.signature))
		return build_fail(m, -ENOMEM);
	return 0;
}

static struct model_attr *pending_push(struct model *m, const char *attr)
{
	if (!m->in_object || m->building.kind == MODEL_KIND_COUNT)
		return NULL;
	if (m->n_pending == m->cap_pending) {
		size_t cap = m->cap_pending ? m->cap_pending * 2 : 16;
		struct model_attr *p = realloc(m->pending, cap * sizeof(*p));
		if (!p) {
			build_fail(m, -ENOMEM);
			return NULL;
		}
		m->pending = p;
		m->cap_pending = cap;
	}
	struct model_attr *a = &m->pending[m->n_pending++];
	/* Attribute names are the kind's own static strings when known: a
	 * snapshot has hundreds of thousands of them. */
	a->name = NULL;
	for (const char *const *k = kind_table[m->building.kind].attrs; *k && !a->name; k++)
		if (strcmp(*k, attr) == 0)
			a->name = *k;
	if (!a->name)
		a->name = model_strdup(m, attr);
	if (!a->name) {
		build_fail(m, -ENOMEM);
		return NULL;
	}
	return a;
}

int model_set_strn(struct model *m, const char *attr, const char *value, size_t n)
{
	struct model_attr *a;

	if (!value)
		return 0;
	a = pending_push(m, attr);
	if (!a)
		return -ENOMEM;
	a->value.type = MODEL_STR;
	a->value.u.str = model_strndup(m, value, n);
	if (!a->value.u.str)
		return build_fail(m, -ENOMEM);
	return 0;
}

int model_set_str(struct model *m, const char *attr, const char *value)
{
	return value ? model_set_strn(m, attr, value, strlen(value)) : 0;
}

int model_set_bool(struct model *m, const char *attr, bool value)
{
	struct model_attr *a = pending_push(m, attr);

	if (!a)
		return -ENOMEM;
	a->value.type = MODEL_BOOL;
	a->value.u.b = value;
	return 0;
}

int model_set_int(struct model *m, const char *attr, long long value)
{
	struct model_attr *a = pending_push(m, attr);

	if (!a)
		return -ENOMEM;
	a->value.type = MODEL_INT;
	a->value.u.i = value;
	return 0;
}

int model_set_list(struct model *m, const char *attr, const char *const *items, size_t n)
{
	struct model_attr *a = pending_push(m, attr);
	const char **copy;

	if (!a)
		return -ENOMEM;
	a->value.type = MODEL_LIST;
	copy = arena_alloc(m, (n ? n : 1) * sizeof(*copy));
	if (!copy)
		return build_fail(m, -ENOMEM);
	for (size_t i = 0; i < n; i++) {
		copy[i] = model_strdup(m, items[i] ? items[i] : "");
		if (!copy[i])
			return build_fail(m, -ENOMEM);
	}
	a->value.u.list.items = copy;
	a->value.u.list.n = n;
	return 0;
}

static int attr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct model_attr *)a)->name, ((const struct model_attr *)b)->name);
}

int model_end(struct model *m)
{
	struct model_object *o;

	if (!m->in_object)
		return -EINVAL;
	m->in_object = false;
	if (m->building.kind == MODEL_KIND_COUNT)
		return -ENOMEM;
	if (m->n_pending > 1)
		qsort(m->pending, m->n_pending, sizeof(*m->pending), attr_cmp);
	for (size_t i = 1; i < m->n_pending; i++)
		if (strcmp(m->pending[i - 1].name, m->pending[i].name) == 0)
			return -EINVAL;
	if (m->n_objects == m->cap_objects) {
		size_t cap = m->cap_objects ? m->cap_objects * 2 : 16;
		struct model_object *p = realloc(m->objects, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		m->objects = p;
		m->cap_objects = cap;
	}
	o = &m->objects[m->n_objects];
	*o = m->building;
	o->n_attrs = m->n_pending;
	o->attrs = NULL;
	if (m->n_pending) {
		o->attrs = arena_alloc(m, m->n_pending * sizeof(*o->attrs));
		if (!o->attrs)
			return -ENOMEM;
		memcpy(o->attrs, m->pending, m->n_pending * sizeof(*o->attrs));
	}
	m->n_objects++;
	m->hashed = false;
	return 0;
}

/* NULL sorts before any string; strings compare bytewise (no locale). */
static int str_cmp(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/*
 * Canonical order: by schema (a schema object first), then by the object a
 * child belongs to, so a table is followed by its columns, constraints and
 * indexes; then kind rank, name, parent, signature.
 */
int model_object_cmp(const struct model_object *a, const struct model_object *b)
{
	const char *sa = a->kind == MODEL_SCHEMA ? a->name : a->schema;
	const char *sb = b->kind == MODEL_SCHEMA ? b->name : b->schema;
	int r = str_cmp(sa, sb);

	if (r)
		return r;
	if ((a->kind == MODEL_SCHEMA) != (b->kind == MODEL_SCHEMA))
		return a->kind == MODEL_SCHEMA ? -1 : 1;
	r = str_cmp(a->parent ? a->parent : a->name, b->parent ? b->parent : b->name);
	if (r)
		return r;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	r = str_cmp(a->name, b->name);
	if (r)
		return r;
	r = str_cmp(a->parent, b->parent);
	if (r)
		return r;
	return str_cmp(a->signature, b->signature);
}

static int object_qsort_cmp(const void *a, const void *b)
{
	return model_object_cmp(a, b);
}

int model_finish(struct model *m)
{
	if (m->in_object)
		return -EINVAL;
	/* Built: the attribute scratch goes, and the objects array fits (a model
	 * may be kept for long). */
	free(m->pending);
	m->pending = NULL;
	m->cap_pending = 0;
	if (m->n_objects && m->n_objects < m->cap_objects) {
		struct model_object *p = realloc(m->objects, m->n_objects * sizeof(*p));
		if (p) {
			m->objects = p;
			m->cap_objects = m->n_objects;
		}
	}
	if (m->n_objects > 1)
		qsort(m->objects, m->n_objects, sizeof(*m->objects), object_qsort_cmp);
	for (size_t i = 1; i < m->n_objects; i++)
		if (model_object_cmp(&m->objects[i - 1], &m->objects[i]) == 0)
			return -EEXIST;
	return 0;
}

const struct model_attr *model_object_attr(const struct model_object *o, const char *name)
{
	size_t lo = 0, hi = o->n_attrs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(o->attrs[mid].name, name);
		if (r == 0)
			return &o->attrs[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct model_object *model_find(const struct model *m, const struct model_object *key)
{
	size_t lo = 0, hi = m->n_objects;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = model_object_cmp(&m->objects[mid], key);
		if (r == 0)
			return &m->objects[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool model_value_equal(const struct model_value *a, const struct model_value *b)
{
	if (!a || !b)
		return a == b;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case MODEL_NULL:
		return true;
	case MODEL_STR:
		return strcmp(a->u.str, b->u.str) == 0;
	case MODEL_BOOL:
		return a->u.b == b->u.b;
	case MODEL_INT:
		return a->u.i == b->u.i;
	case MODEL_LIST:
		if (a->u.list.n != b->u.list.n)
			return false;
		for (size_t i = 0; i < a->u.list.n; i++)
			if (strcmp(a->u.list.items[i], b->u.list.items[i]) != 0)
				return false;
		return true;
	}
	return false;
}

/* A bounded string builder that keeps counting past the end, like snprintf. */
struct sbuf {
	char *buf;
	size_t size, len;
};

static void sbuf_putc(struct sbuf *b, char c)
{
	if (b->len + 1 < b->size)
		b->buf[b->len] = c;
	b->len++;
}

static void sbuf_puts(struct sbuf *b, const char *s)
{
	while (*s)
		sbuf_putc(b, *s++);
}

static size_t sbuf_end(struct sbuf *b)
{
	if (b->size)
		b->buf[b->len < b->size ? b->len : b->size - 1] = '\0';
	return b->len;
}

/*
 * Copies s under the escaping rule (utf8_escape_step) so a name can never
 * break a line, a terminal or the order in which it is shown.  Newlines and
 * tabs are kept when keep_layout (multi-line definitions); a double quote is
 * doubled when in_quotes (quoted identifiers).
 */
static void sbuf_put_escaped(struct sbuf *b, const char *s, bool keep_layout, bool in_quotes)
{
	size_t left = strlen(s);

	while (left) {
		char esc[UTF8_ESCAPE_MAX];
		size_t n = utf8_escape_step(s, left, keep_layout ? UTF8_KEEP_LAYOUT : 0, esc);

		if (esc[0]) {
			sbuf_puts(b, esc);
		} else {
			/* Inside a quoted name a backslash is doubled, so "\\x0a" (four
			 * characters) never reads like the escaped newline "\x0a". */
			if ((*s == '"' || *s == '\\') && in_quotes)
				sbuf_putc(b, *s);
			for (size_t i = 0; i < n; i++)
				sbuf_putc(b, s[i]);
		}
		s += n;
		left -= n;
	}
}

static bool ident_needs_quotes(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!*p || !((*p >= 'a' && *p <= 'z') || *p == '_'))
		return true;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '$'))
			return true;
	/* Reserved words would need quotes too; the list is long and the name
	 * stays unambiguous without it, so only the common ones are handled. */
	static const char *const reserved[] = { "all", "and", "any", "as", "case", "check",
		"column", "constraint", "default", "desc", "end", "from", "group", "in", "limit",
		"not", "null", "on", "or", "order", "select", "table", "to", "user", "where",
		NULL };
	for (int i = 0; reserved[i]; i++)
		if (strcmp(s, reserved[i]) == 0)
			return true;
	return false;
}

static void sbuf_put_ident(struct sbuf *b, const char *ident)
{
	if (!ident_needs_quotes(ident)) {
		sbuf_puts(b, ident);
		return;
	}
	sbuf_putc(b, '"');
	sbuf_put_escaped(b, ident, false, true);
	sbuf_putc(b, '"');
}

size_t model_quote_ident(const char *ident, char *buf, size_t size)
{
	struct sbuf b = { buf, size, 0 };

	sbuf_put_ident(&b, ident);
	return sbuf_end(&b);
}

size_t model_object_name(const struct model_object *o, char *buf, size_t size)
{
	struct sbuf b = { buf, size, 0 };

	if (o->schema) {
		sbuf_put_ident(&b, o->schema);
		sbuf_putc(&b, '.');
	}
	/* Indexes are schema-level names in PostgreSQL; columns and
	 * constraints are only unique within their table. */
	if (o->parent && !kind_table[o->kind].schema_level_name) {
		sbuf_put_ident(&b, o->parent);
		sbuf_putc(&b, '.');
	}
	sbuf_put_ident(&b, o->name);
	if (o->signature) {
		sbuf_putc(&b, '(');
		sbuf_put_escaped(&b, o->signature, false, false);
		sbuf_putc(&b, ')');
	}
	return sbuf_end(&b);
}

size_t model_value_text(const struct model_value *v, char *buf, size_t size)
{
	struct sbuf b = { buf, size, 0 };
	char num[32];

	if (!v || v->type == MODEL_NULL) {
		sbuf_puts(&b, "(none)");
		return sbuf_end(&b);
	}
	switch (v->type) {
	case MODEL_STR:
		/* Newlines are kept: multi-line definitions are shown as lines. */
		sbuf_put_escaped(&b, v->u.str, true, false);
		break;
	case MODEL_BOOL:
		sbuf_puts(&b, v->u.b ? "true" : "false");
		break;
	case MODEL_INT:
		snprintf(num, sizeof(num), "%lld", v->u.i);
		sbuf_puts(&b, num);
		break;
	case MODEL_LIST:
		if (v->u.list.n == 0)
			sbuf_puts(&b, "(empty)");
		for (size_t i = 0; i < v->u.list.n; i++) {
			if (i)
				sbuf_puts(&b, ", ");
			sbuf_put_escaped(&b, v->u.list.items[i], false, false);
		}
		break;
	case MODEL_NULL:
		break;
	}
	return sbuf_end(&b);
}

char *model_object_name_dup(const struct model_object *o)
{
	char small[1];
	size_t n = model_object_name(o, small, sizeof(small));
	char *s = malloc(n + 1);

	if (s)
		model_object_name(o, s, n + 1);
	return s;
}

char *model_value_text_dup(const struct model_value *v)
{
	char small[1];
	size_t n = model_value_text(v, small, sizeof(small));
	char *s = malloc(n + 1);

	if (s)
		model_value_text(v, s, n + 1);
	return s;
}
