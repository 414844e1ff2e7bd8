/* Diffs two finished models into attribute-level changes with severities; text and JSON output. */
#include "diff.h"

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diff_server.h"
#include "recorder.h"
#include "snapshot.h"
#include "utf8.h"
#include "sql.h"

#define DIFF_RED "\033[31m"
#define DIFF_GREEN "\033[32m"
#define DIFF_YELLOW "\033[33m"
#define DIFF_RESET "\033[0m"

/* Above this many cells the block diff of a multi-line value skips the LCS. */
#define DIFF_LCS_MAX_CELLS ((size_t)1 << 22)

/* ---------------------------------------------------------------- types */

/* Families of PostgreSQL types whose members can widen into each other. */
enum diff_type_group {
	DIFF_TG_VARCHAR,    /* character varying(n), character varying, text */
	DIFF_TG_BPCHAR,     /* character(n), bpchar */
	DIFF_TG_VARBIT,     /* bit varying(n), bit varying */
	DIFF_TG_NUMERIC,    /* numeric(p,s), numeric(p), numeric */
	DIFF_TG_INT,        /* smallint < integer < bigint */
	DIFF_TG_FLOAT,      /* real < double precision */
	DIFF_TG_TIMESTAMP,  /* timestamp(p) without time zone */
	DIFF_TG_TIMESTAMPTZ,
	DIFF_TG_TIME,
	DIFF_TG_TIMETZ,
	DIFF_TG_INTERVAL,   /* interval(p), without fields */
};

struct diff_type_family {
	const char *name;          /* format_type() output without the typmod */
	enum diff_type_group group;
	int rank;                  /* order inside DIFF_TG_INT / DIFF_TG_FLOAT */
	int max_args;              /* how many typmod numbers it may carry */
	bool bare_unlimited;       /* without a typmod: no limit */
	long long bare_value;      /* without a typmod and limited: this limit */
};

static const struct diff_type_family diff_type_families[] = {
	{ "character varying", DIFF_TG_VARCHAR, 0, 1, true, 0 },
	{ "text", DIFF_TG_VARCHAR, 0, 0, true, 0 },
	{ "character", DIFF_TG_BPCHAR, 0, 1, false, 1 },
	{ "bpchar", DIFF_TG_BPCHAR, 0, 0, true, 0 },
	{ "bit varying", DIFF_TG_VARBIT, 0, 1, true, 0 },
	{ "numeric", DIFF_TG_NUMERIC, 0, 2, true, 0 },
	{ "smallint", DIFF_TG_INT, 1, 0, false, 0 },
	{ "integer", DIFF_TG_INT, 2, 0, false, 0 },
	{ "bigint", DIFF_TG_INT, 3, 0, false, 0 },
	{ "real", DIFF_TG_FLOAT, 1, 0, false, 0 },
	{ "double precision", DIFF_TG_FLOAT, 2, 0, false, 0 },
	{ "timestamp without time zone", DIFF_TG_TIMESTAMP, 0, 1, false, 6 },
	{ "timestamp with time zone", DIFF_TG_TIMESTAMPTZ, 0, 1, false, 6 },
	{ "time without time zone", DIFF_TG_TIME, 0, 1, false, 6 },
	{ "time with time zone", DIFF_TG_TIMETZ, 0, 1, false, 6 },
	{ "interval", DIFF_TG_INTERVAL, 0, 1, false, 6 },
};

struct diff_sqltype {
	const struct diff_type_family *family;
	int dims;          /* trailing "[]" pairs */
	bool unlimited;
	long long a;       /* length, precision (numeric: p) */
	long long b;       /* numeric scale */
};

/* Parses an optionally signed decimal number; advances *p. */
static int diff_parse_number(const char **p, const char *end, long long *ret)
{
	const char *s = *p;
	bool neg = false;
	long long v = 0;

	while (s < end && *s == ' ')
		s++;
	if (s < end && (*s == '-' || *s == '+')) {
		neg = *s == '-';
		s++;
	}
	if (s == end || *s < '0' || *s > '9')
		return -EINVAL;
	while (s < end && *s >= '0' && *s <= '9') {
		if (v > 100000000)
			return -ERANGE;
		v = v * 10 + (*s - '0');
		s++;
	}
	while (s < end && *s == ' ')
		s++;
	*p = s;
	*ret = neg ? -v : v;
	return 0;
}

/* Parses a format_type() string such as "timestamp(3) without time zone[]". */
static int diff_sqltype_parse(const char *s, struct diff_sqltype *ret)
{
	char family[64];
	const char *end = s + strlen(s), *open, *close = NULL, *p;
	long long args[2];
	int n_args = 0;
	size_t flen;

	memset(ret, 0, sizeof(*ret));
	while (end - s >= 2 && end[-2] == '[' && end[-1] == ']') {
		end -= 2;
		ret->dims++;
	}
	open = memchr(s, '(', (size_t)(end - s));
	if (open) {
		close = memchr(open, ')', (size_t)(end - open));
		if (!close)
			return -EINVAL;
		p = open + 1;
		for (;;) {
			if (n_args == 2 || diff_parse_number(&p, close, &args[n_args]) < 0)
				return -EINVAL;
			n_args++;
			if (p == close)
				break;
			if (*p != ',')
				return -EINVAL;
			p++;
		}
		flen = (size_t)(open - s) + (size_t)(end - close - 1);
		if (flen >= sizeof(family))
			return -EINVAL;
		memcpy(family, s, (size_t)(open - s));
		memcpy(family + (open - s), close + 1, (size_t)(end - close - 1));
	} else {
		flen = (size_t)(end - s);
		if (flen >= sizeof(family))
			return -EINVAL;
		memcpy(family, s, flen);
	}
	family[flen] = '\0';

	for (size_t i = 0; i < sizeof(diff_type_families) / sizeof(diff_type_families[0]); i++) {
		const struct diff_type_family *f = &diff_type_families[i];

		if (strcmp(f->name, family) != 0)
			continue;
		if (n_args > f->max_args)
			return -EINVAL;
		ret->family = f;
		if (n_args == 0) {
			ret->unlimited = f->bare_unlimited;
			ret->a = f->bare_value;
			return 0;
		}
		ret->a = args[0];
		ret->b = n_args == 2 ? args[1] : 0;
		if (f->group == DIFF_TG_NUMERIC ? ret->a < 1 : ret->a < 0)
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

/* Severity of a column type change: widening is a warning, anything else breaks. */
static enum diff_severity diff_type_change_severity(const char *before, const char *after)
{
	struct diff_sqltype o, n;

	if (diff_sqltype_parse(before, &o) < 0 || diff_sqltype_parse(after, &n) < 0)
		return DIFF_BREAKING;
	if (o.dims != n.dims || o.family->group != n.family->group)
		return DIFF_BREAKING;
	switch (o.family->group) {
	case DIFF_TG_VARCHAR:
	case DIFF_TG_BPCHAR:
	case DIFF_TG_VARBIT:
		if (n.unlimited)
			return DIFF_WARNING;
		if (o.unlimited)
			return DIFF_BREAKING;
		return n.a >= o.a ? DIFF_WARNING : DIFF_BREAKING;
	case DIFF_TG_NUMERIC:
		if (n.unlimited)
			return DIFF_WARNING;
		if (o.unlimited)
			return DIFF_BREAKING;
		return n.a - n.b >= o.a - o.b && n.b >= o.b ? DIFF_WARNING : DIFF_BREAKING;
	case DIFF_TG_INT:
	case DIFF_TG_FLOAT:
		return n.family->rank >= o.family->rank ? DIFF_WARNING : DIFF_BREAKING;
	case DIFF_TG_TIMESTAMP:
	case DIFF_TG_TIMESTAMPTZ:
	case DIFF_TG_TIME:
	case DIFF_TG_TIMETZ:
	case DIFF_TG_INTERVAL:
		return n.a >= o.a ? DIFF_WARNING : DIFF_BREAKING;
	}
	return DIFF_BREAKING;
}

/* ------------------------------------------------------------- severity */

static bool diff_value_bool(const struct model_value *v, bool absent)
{
	if (!v || v->type != MODEL_BOOL)
		return absent;
	return v->u.b;
}

static bool diff_is_bool(const struct model_value *v, bool b)
{
	return v && v->type == MODEL_BOOL && v->u.b == b;
}

static enum diff_severity diff_removed_severity(const struct model_object *o)
{
	switch (o->kind) {
	/* Performance, enforcement or housekeeping: applications keep working. */
	case MODEL_CONSTRAINT:
	case MODEL_INDEX:
	case MODEL_TRIGGER:
	case MODEL_RULE:
	case MODEL_STATISTICS:
	case MODEL_EVENT_TRIGGER:
	case MODEL_DEFAULT_PRIVILEGES:
	case MODEL_DATABASE_SETTING:
	case MODEL_COLLATION:
		return DIFF_WARNING;
	/* Everything else is something a client may name: dropping it breaks
	 * them.  A dropped policy changes which rows a role sees. */
	default:
		return DIFF_BREAKING;
	}
}

static enum diff_severity diff_added_severity(const struct model_object *o)
{
	/* New constraints and policies may reject writes or hide rows. */
	if (o->kind == MODEL_CONSTRAINT || o->kind == MODEL_POLICY)
		return DIFF_WARNING;
	if (o->kind == MODEL_COLUMN) {
		const struct model_attr *nn = model_object_attr(o, "not_null");

		if (nn && diff_value_bool(&nn->value, false) &&
		    !model_object_attr(o, "default") && !model_object_attr(o, "identity") &&
		    !model_object_attr(o, "generated"))
			return DIFF_BREAKING;
	}
	return DIFF_INFO;
}

/*
 * An aclitem is "grantee=privileges/grantor" (grantee empty for PUBLIC,
 * names double-quoted when they need it; '*' after a privilege letter is
 * its grant option).  Splits it into grantee+grantor (the key) and the
 * privileges; false when it does not parse.
 */
static bool diff_acl_split(const char *item, char *key, size_t key_size, char *privs,
			   size_t privs_size)
{
	const char *eq = NULL, *slash;
	bool quoted = false;

	for (const char *p = item; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '=' && !quoted) {
			eq = p;
			break;
		}
	}
	slash = strrchr(item, '/');
	if (!eq || !slash || slash < eq)
		return false;
	snprintf(key, key_size, "%.*s/%s", (int)(eq - item), item, slash + 1);
	snprintf(privs, privs_size, "%.*s", (int)(slash - eq - 1), eq + 1);
	return true;
}

/* True when every privilege (and grant option) in the list a is still in b. */
static bool diff_list_subset(const struct model_value *a, const struct model_value *b)
{
	if (!a || a->type != MODEL_LIST)
		return true;
	if (!b || b->type != MODEL_LIST)
		return a->u.list.n == 0;
	for (size_t i = 0; i < a->u.list.n; i++) {
		char ka[512], pa[64], kb[512], pb[64];
		bool found = false;

		if (!diff_acl_split(a->u.list.items[i], ka, sizeof(ka), pa, sizeof(pa))) {
			/* Not an aclitem: compare whole items. */
			for (size_t j = 0; j < b->u.list.n && !found; j++)
				found = strcmp(a->u.list.items[i], b->u.list.items[j]) == 0;
			if (!found)
				return false;
			continue;
		}
		for (size_t j = 0; j < b->u.list.n && !found; j++) {
			if (!diff_acl_split(b->u.list.items[j], kb, sizeof(kb), pb, sizeof(pb)) ||
			    strcmp(ka, kb) != 0)
				continue;
			found = true;
			/* Every privilege letter, with its grant option, must remain. */
			for (const char *p = pa; *p && found; p++) {
				if (*p == '*')
					continue;
				const char *q = strchr(pb, *p);
				if (!q || (p[1] == '*' && q[1] != '*'))
					found = false;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

static enum diff_severity diff_modified_severity(enum model_kind kind, const char *attr,
						 const struct model_value *before,
						 const struct model_value *after)
{
	switch (kind) {
	case MODEL_COLUMN:
		if (strcmp(attr, "type") == 0) {
			if (!before || !after || before->type != MODEL_STR ||
			    after->type != MODEL_STR)
				return DIFF_BREAKING;
			return diff_type_change_severity(before->u.str, after->u.str);
		}
		if (strcmp(attr, "not_null") == 0) {
			bool o = diff_value_bool(before, false), n = diff_value_bool(after, false);

			return !o && n ? DIFF_BREAKING : DIFF_WARNING;
		}
		if (strcmp(attr, "position") == 0)
			return DIFF_INFO;
		break;
	case MODEL_CONSTRAINT:
		if (strcmp(attr, "validated") == 0 && diff_is_bool(before, false) &&
		    diff_is_bool(after, true))
			return DIFF_INFO;
		/* Its enforcing triggers turned off: the constraint silently stops holding. */
		if (strcmp(attr, "triggers") == 0 && after)
			return DIFF_BREAKING;
		break;
	default:
		break;
	}
	/* A revoked privilege breaks whoever used it; a new grant does not. */
	if (strcmp(attr, "acl") == 0)
		return diff_list_subset(before, after) ? DIFF_WARNING : DIFF_BREAKING;
	if (strcmp(attr, "comment") == 0)
		return DIFF_INFO;
	/* index.valid true -> false is a warning like everything else. */
	return DIFF_WARNING;
}

/* ------------------------------------------------------------------ diff */

const char *diff_type_name(enum diff_change_type t)
{
	switch (t) {
	case DIFF_ADDED:
		return "added";
	case DIFF_REMOVED:
		return "removed";
	case DIFF_MODIFIED:
		return "modified";
	case DIFF_RENAMED:
		return "renamed";
	}
	return "unknown";
}

const char *diff_severity_name(enum diff_severity s)
{
	switch (s) {
	case DIFF_INFO:
		return "info";
	case DIFF_WARNING:
		return "warning";
	case DIFF_BREAKING:
		return "breaking";
	}
	return "unknown";
}

void diff_free(struct diff *d)
{
	if (!d)
		return;
	free(d->changes);
	free(d->rendering);
	free(d);
}

static int diff_push(struct diff *d, size_t *cap, const struct diff_change *c)
{
	if (d->n_changes == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct diff_change *n;

		if (ncap > SIZE_MAX / sizeof(*n))
			return -ENOMEM;
		n = realloc(d->changes, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		d->changes = n;
		*cap = ncap;
	}
	d->changes[d->n_changes++] = *c;
	d->by_type[c->type]++;
	d->by_severity[c->severity]++;
	return 0;
}

void diff_acknowledge(struct diff *d, size_t i, const char *reason)
{
	struct diff_change *c;

	if (!d || i >= d->n_changes || d->changes[i].acknowledged)
		return;
	c = &d->changes[i];
	c->acknowledged = true;
	c->ack_reason = reason;
	d->by_severity[c->severity]--;
	d->n_acknowledged++;
}

/*
 * True when o is a child whose parent relation exists in `own` but not in
 * `other` under the same kind, i.e. the parent itself is added/removed.
 */
static bool diff_parent_changed(const struct model_object *o, const struct model *own,
				const struct model *other)
{
	static const enum model_kind parents[] = { MODEL_TABLE, MODEL_FOREIGN_TABLE, MODEL_VIEW,
						   MODEL_MATERIALIZED_VIEW };
	const struct model_kind_info *info = model_kind_info(o->kind);
	struct model_object key;

	if (!info || !info->has_parent || !o->parent)
		return false;
	memset(&key, 0, sizeof(key));
	key.schema = o->schema;
	key.name = o->parent;
	for (size_t i = 0; i < sizeof(parents) / sizeof(parents[0]); i++) {
		const struct model_object *mine, *theirs;

		key.kind = parents[i];
		mine = model_find(own, &key);
		theirs = model_find(other, &key);
		if (mine && !theirs)
			return true;
		/* A table that became a partition (or stopped being one) loses (or
		 * gains) the columns and inherited children that partitions report
		 * at their parent: not changes of their own. */
		if (mine && theirs &&
		    (model_object_attr(mine, "partition_of") != NULL) !=
			    (model_object_attr(theirs, "partition_of") != NULL))
			return true;
	}
	return false;
}

static void diff_drop(struct diff *d, size_t at)
{
	d->by_type[d->changes[at].type]--;
	d->by_severity[d->changes[at].severity]--;
	memmove(&d->changes[at], &d->changes[at + 1], (d->n_changes - at - 1) * sizeof(*d->changes));
	d->n_changes--;
}

/* How a changed part reads inside a constraint's or index's definition
 * (pg_get_constraintdef, pg_get_indexdef); "" where it leaves no text. */
static void diff_part_text(const char *attr, const struct model_value *v, char *out, size_t size)
{
	out[0] = '\0';
	if (!v)
		return;
	if (v->type == MODEL_BOOL) {
		const char *word = strcmp(attr, "unique") == 0 ? (v->u.b ? "UNIQUE " : "")
				 : strcmp(attr, "deferrable") == 0 ? (v->u.b ? " DEFERRABLE" : "")
				 : strcmp(attr, "deferred") == 0 ? (v->u.b ? " INITIALLY DEFERRED" : "")
				 : strcmp(attr, "validated") == 0 ? (v->u.b ? "" : " NOT VALID") : "";
		snprintf(out, size, "%s", word);
		return;
	}
	if (v->type != MODEL_STR)
		return;
	if (strcmp(attr, "predicate") == 0) {
		snprintf(out, size, " WHERE %s", v->u.str);
		return;
	}
	if (strcmp(attr, "method") == 0) {
		snprintf(out, size, "USING %s ", v->u.str);
		return;
	}
	if (strcmp(attr, "references") == 0) {
		snprintf(out, size, "REFERENCES %s(", v->u.str);
		return;
	}
	const char *clause = strcmp(attr, "on_delete") == 0 ? " ON DELETE "
			   : strcmp(attr, "on_update") == 0 ? " ON UPDATE "
			   : strcmp(attr, "match") == 0 ? " MATCH " : NULL;
	/* The defaults are not printed. */
	if (!clause || strcmp(v->u.str, "no action") == 0 || strcmp(v->u.str, "simple") == 0)
		return;
	snprintf(out, size, "%s%s", clause, v->u.str);
	for (char *p = out; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
}

static void diff_cut(char *s, const char *part)
{
	char *at;

	if (*part && (at = strstr(s, part)))
		memmove(at, at + strlen(part), strlen(at + strlen(part)) + 1);
}

/*
 * Constraints and indexes carry their whole definition next to the parts
 * broken out of it (on_delete, predicate...).  When the other changes
 * account for every difference in the definition, its change says nothing
 * new and is dropped; when the definition also changed elsewhere (other
 * columns, another referenced key), it stays.
 */
static void diff_drop_redundant_definition(struct diff *d, size_t first)
{
	const struct diff_change *def = NULL;
	size_t at = 0;
	char *a, *b;
	bool same;

	if (d->n_changes - first < 2)
		return;
	for (size_t k = first; k < d->n_changes; k++)
		if (strcmp(d->changes[k].attribute, "definition") == 0) {
			def = &d->changes[k];
			at = k;
		}
	if (!def || !def->old_value || !def->new_value || def->old_value->type != MODEL_STR ||
	    def->new_value->type != MODEL_STR)
		return;
	a = strdup(def->old_value->u.str);
	b = strdup(def->new_value->u.str);
	if (!a || !b) {
		free(a);
		free(b);
		return;
	}
	for (size_t k = first; k < d->n_changes; k++) {
		char part[1024];
		if (k == at)
			continue;
		diff_part_text(d->changes[k].attribute, d->changes[k].old_value, part, sizeof(part));
		diff_cut(a, part);
		diff_part_text(d->changes[k].attribute, d->changes[k].new_value, part, sizeof(part));
		diff_cut(b, part);
	}
	same = strcmp(a, b) == 0;
	free(a);
	free(b);
	if (same)
		diff_drop(d, at);
}

/*
 * Sides from two majors, and the object's changes from `first` on all to
 * text the servers render: moved to d->rendering.
 */
static int diff_set_apart_rendering(struct diff *d, size_t first)
{
	size_t n = d->n_changes - first;
	struct diff_change *r;

	if (!d->from_major || !d->to_major || d->from_major == d->to_major || n == 0)
		return 0;
	for (size_t k = first; k < d->n_changes; k++)
		if (!diff_server_rendered(&d->changes[k], d->from_major, d->to_major))
			return 0;
	r = realloc(d->rendering, (d->n_rendering + n) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	d->rendering = r;
	memcpy(&r[d->n_rendering], &d->changes[first], n * sizeof(*r));
	for (size_t k = 0; k < n; k++)
		r[d->n_rendering + k].server_rendering = true;
	d->n_rendering += n;
	while (d->n_changes > first)
		diff_drop(d, d->n_changes - 1);
	return 0;
}

static int diff_objects(struct diff *d, size_t *cap, const struct model_object *a,
			const struct model_object *b)
{
	size_t i = 0, j = 0, first = d->n_changes;
	int r;

	if (d->from->hashed && d->to->hashed && memcmp(a->hash, b->hash, sizeof(a->hash)) == 0)
		return 0;
	while (i < a->n_attrs || j < b->n_attrs) {
		struct diff_change c = { .type = DIFF_MODIFIED, .before = a, .after = b };
		int cmp;

		if (i == a->n_attrs)
			cmp = 1;
		else if (j == b->n_attrs)
			cmp = -1;
		else
			cmp = strcmp(a->attrs[i].name, b->attrs[j].name);
		if (cmp < 0) {
			c.attribute = a->attrs[i].name;
			c.old_value = &a->attrs[i++].value;
		} else if (cmp > 0) {
			c.attribute = b->attrs[j].name;
			c.new_value = &b->attrs[j++].value;
		} else {
			c.attribute = a->attrs[i].name;
			c.old_value = &a->attrs[i++].value;
			c.new_value = &b->attrs[j++].value;
			if (diff_server_equal(a, c.attribute, d->from_major, d->to_major,
					      c.old_value, c.new_value))
				continue;
		}
		c.severity = diff_modified_severity(a->kind, c.attribute, c.old_value, c.new_value);
		r = diff_push(d, cap, &c);
		if (r < 0)
			return r;
	}
	if (a->kind == MODEL_CONSTRAINT || a->kind == MODEL_INDEX)
		diff_drop_redundant_definition(d, first);
	return diff_set_apart_rendering(d, first);
}

/* ---- rename awareness ----
 *
 * A table, column, index... whose content is identical but whose name
 * changed is one rename, not a drop and an add.  Only when it is certain:
 * exactly one removed and one added object of the same kind, in the same
 * place, with the same content, each the other's only candidate.
 */

static bool diff_renamable(enum model_kind k)
{
	return k != MODEL_SCHEMA && k != MODEL_EXTENSION && k != MODEL_DEFAULT_PRIVILEGES;
}

static enum diff_severity diff_renamed_severity(enum model_kind k)
{
	switch (k) {
	case MODEL_INDEX:
	case MODEL_CONSTRAINT:
	case MODEL_TRIGGER:
	case MODEL_RULE:
	case MODEL_POLICY:
	case MODEL_STATISTICS:
	case MODEL_EVENT_TRIGGER:
		return DIFF_INFO;
	default:
		return DIFF_BREAKING; /* clients name it */
	}
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Strings equal once every `from` in a reads as `to` (a renamed table named in a definition). */
static bool diff_str_equal_renamed(const char *a, const char *b, const char *from, const char *to)
{
	size_t fl = from ? strlen(from) : 0, tl = to ? strlen(to) : 0;

	while (*a || *b) {
		if (fl && strncmp(a, from, fl) == 0 && strncmp(b, to, tl) == 0) {
			a += fl;
			b += tl;
		} else if (*a == *b) {
			a++;
			b++;
		} else {
			return false;
		}
	}
	return true;
}

static bool diff_value_equal_renamed(const struct model_value *a, const struct model_value *b,
				     const char *from, const char *to)
{
	if (!from || a->type != MODEL_STR || b->type != MODEL_STR)
		return model_value_equal(a, b);
	return diff_str_equal_renamed(a->u.str, b->u.str, from, to);
}

/* An index definition after its name: " ON public.t USING btree (a)"; NULL if not one. */
static const char *diff_index_def_rest(const struct model_value *v)
{
	const char *p;

	if (v->type != MODEL_STR)
		return NULL;
	p = v->u.str;
	if (strncmp(p, "CREATE UNIQUE INDEX ", 20) == 0)
		p += 20;
	else if (strncmp(p, "CREATE INDEX ", 13) == 0)
		p += 13;
	else
		return NULL;
	if (*p == '"') {
		/* A quoted name ends at a quote that is not doubled. */
		for (p++; *p && !(p[0] == '"' && p[1] != '"'); p += p[0] == '"' ? 2 : 1)
			;
		if (*p)
			p++;
	} else {
		p += strcspn(p, " ");
	}
	return strncmp(p, " ON ", 4) == 0 ? p : NULL;
}

/*
 * A column's not_null_name that only one side has, and that is the name the
 * server gave the other side's NOT NULL (<table>_<column>_not_null, which the
 * catalog leaves out): a rename of the table or the column keeps the
 * constraint's name, which then no longer looks like the server's own.
 */
static bool diff_kept_not_null_name(const struct model_object *o, const struct model_attr *x,
				    const struct model_object *other)
{
	size_t pl, nl;
	const char *v;

	if (o->kind != MODEL_COLUMN || strcmp(x->name, "not_null_name") != 0 ||
	    x->value.type != MODEL_STR || !other->parent)
		return false;
	v = x->value.u.str;
	pl = strlen(other->parent);
	nl = strlen(other->name);
	return strncmp(v, other->parent, pl) == 0 && v[pl] == '_' &&
	       strncmp(v + pl + 1, other->name, nl) == 0 && strcmp(v + pl + 1 + nl, "_not_null") == 0;
}

static bool diff_has_attr_at(const struct model_object *o, size_t i, const char *name)
{
	return i < o->n_attrs && strcmp(o->attrs[i].name, name) == 0;
}

/*
 * Equal attributes; an index's definition, which embeds its own name, is
 * compared from the name on.  With from/to set, a definition naming the
 * table by its old qualified name matches one naming it by the new.
 */
static bool diff_same_content(const struct model_object *a, const struct model_object *b,
			      const char *from, const char *to)
{
	size_t i = 0, j = 0;

	while (i < a->n_attrs || j < b->n_attrs) {
		if (i < a->n_attrs && !diff_has_attr_at(b, j, a->attrs[i].name) &&
		    diff_kept_not_null_name(a, &a->attrs[i], b)) {
			i++;
			continue;
		}
		if (j < b->n_attrs && !diff_has_attr_at(a, i, b->attrs[j].name) &&
		    diff_kept_not_null_name(b, &b->attrs[j], a)) {
			j++;
			continue;
		}
		bool def_a = i < a->n_attrs && a->kind == MODEL_INDEX &&
			     strcmp(a->attrs[i].name, "definition") == 0;
		bool def_b = j < b->n_attrs && b->kind == MODEL_INDEX &&
			     strcmp(b->attrs[j].name, "definition") == 0;
		if (def_a && def_b) {
			/* What follows the index's own name must match. */
			const char *ra = diff_index_def_rest(&a->attrs[i].value);
			const char *rb = diff_index_def_rest(&b->attrs[j].value);

			if (!ra || !rb || !(from ? diff_str_equal_renamed(ra, rb, from, to)
						 : strcmp(ra, rb) == 0))
				return false;
			i++;
			j++;
			continue;
		}
		if (i == a->n_attrs || j == b->n_attrs ||
		    strcmp(a->attrs[i].name, b->attrs[j].name) != 0 ||
		    !diff_value_equal_renamed(&a->attrs[i].value, &b->attrs[j].value, from, to))
			return false;
		i++;
		j++;
	}
	return true;
}

/* The children of a table: contiguous right after it in canonical order. */
static const struct model_object *diff_children(const struct model *m, const struct model_object *o,
						size_t *ret_n)
{
	const struct model_object *first = o + 1, *end = m->objects + m->n_objects, *p = first;

	while (p < end && p->parent && same_str(p->schema, o->schema) && strcmp(p->parent, o->name) == 0)
		p++;
	*ret_n = (size_t)(p - first);
	return first;
}

static bool diff_same_children(const struct diff *d, const struct model_object *a,
			       const struct model_object *b)
{
	size_t na, nb;
	const struct model_object *ca, *cb;

	if (a->kind != MODEL_TABLE && a->kind != MODEL_FOREIGN_TABLE && a->kind != MODEL_VIEW &&
	    a->kind != MODEL_MATERIALIZED_VIEW)
		return true;
	ca = diff_children(d->from, a, &na);
	cb = diff_children(d->to, b, &nb);
	if (na != nb)
		return false;
	/* Rules, triggers and statistics name their table in their definitions. */
	struct model_object qa = { .kind = MODEL_TABLE, .schema = a->schema, .name = a->name };
	struct model_object qb = { .kind = MODEL_TABLE, .schema = b->schema, .name = b->name };
	char from[512], to[512];
	model_object_name(&qa, from, sizeof(from));
	model_object_name(&qb, to, sizeof(to));
	for (size_t i = 0; i < na; i++)
		if (ca[i].kind != cb[i].kind || strcmp(ca[i].name, cb[i].name) != 0 ||
		    !diff_same_content(&ca[i], &cb[i], from, to))
			return false;
	return true;
}

static bool diff_rename_candidate(const struct diff *d, const struct diff_change *r,
				  const struct diff_change *a)
{
	const struct model_object *x = r->before, *y = a->after;

	return r->type == DIFF_REMOVED && a->type == DIFF_ADDED && x->kind == y->kind &&
	       same_str(x->schema, y->schema) && same_str(x->parent, y->parent) &&
	       same_str(x->signature, y->signature) && diff_same_content(x, y, NULL, NULL) &&
	       diff_same_children(d, x, y);
}

static void diff_detect_renames(struct diff *d)
{
	size_t removed = d->by_type[DIFF_REMOVED], added = d->by_type[DIFF_ADDED];

	/* Quadratic in the worst case; a diff that big is not a rename. */
	if (removed == 0 || added == 0 || removed * added > 4000000)
		return;
	for (size_t i = 0; i < d->n_changes; i++) {
		struct diff_change *r = &d->changes[i];
		size_t match = SIZE_MAX, n = 0;

		if (r->type != DIFF_REMOVED || !diff_renamable(r->before->kind))
			continue;
		for (size_t j = 0; j < d->n_changes && n < 2; j++)
			if (diff_rename_candidate(d, r, &d->changes[j])) {
				match = j;
				n++;
			}
		if (n != 1)
			continue;
		/* The added object must have no other removed candidate either. */
		n = 0;
		for (size_t k = 0; k < d->n_changes && n < 2; k++)
			if (diff_rename_candidate(d, &d->changes[k], &d->changes[match]))
				n++;
		if (n != 1)
			continue;
		d->by_type[DIFF_REMOVED]--;
		d->by_severity[r->severity]--;
		r->type = DIFF_RENAMED;
		r->after = d->changes[match].after;
		r->severity = diff_renamed_severity(r->before->kind);
		d->by_type[DIFF_RENAMED]++;
		d->by_severity[r->severity]++;
		diff_drop(d, match);
		if (match < i)
			i--;
	}
}

/*
 * A partition's column, or its clone of a trigger, is reported only when it
 * says something its parent's does not (--partitions parent: its own default,
 * a trigger disabled on that partition alone).  So one that appears or
 * disappears while its table stays a partition is really one that now
 * differs from (or again matches) the parent's: compare it with the parent's
 * on the other side.  Returns 1 when handled.
 */
static int diff_partition_child(struct diff *d, size_t *cap, const struct model_object *o,
				const struct model *own, const struct model *other, bool added)
{
	struct model_object key = { .kind = MODEL_TABLE, .schema = o->schema, .name = o->parent };
	const struct model_object *mine, *theirs, *pobj;
	const struct model_attr *pof;
	char schema[256], table[256];
	const char *dot;
	size_t first = d->n_changes;
	int r;

	if (o->kind != MODEL_COLUMN && o->kind != MODEL_TRIGGER)
		return 0;
	mine = model_find(own, &key);
	theirs = model_find(other, &key);
	if (!mine || !theirs || !(pof = model_object_attr(theirs, "partition_of")) ||
	    !model_object_attr(mine, "partition_of") || pof->value.type != MODEL_STR)
		return 0;
	/* partition_of is "schema.table", quoted like quote_ident: plain names only. */
	dot = strchr(pof->value.u.str, '.');
	if (!dot || strchr(pof->value.u.str, '"'))
		return 0;
	snprintf(schema, sizeof(schema), "%.*s", (int)(dot - pof->value.u.str), pof->value.u.str);
	snprintf(table, sizeof(table), "%s", dot + 1);
	key = (struct model_object){ .kind = o->kind, .schema = schema, .parent = table,
				     .name = o->name };
	pobj = model_find(other, &key);
	if (!pobj)
		return 0;
	r = added ? diff_objects(d, cap, pobj, o) : diff_objects(d, cap, o, pobj);
	if (r < 0)
		return r;
	for (size_t k = first; k < d->n_changes; k++) {
		d->changes[k].before = o;
		d->changes[k].after = o;
	}
	/* Where it sits among the partition's columns is not the parent's business. */
	for (size_t k = first; k < d->n_changes; k++)
		if (strcmp(d->changes[k].attribute, "position") == 0) {
			diff_drop(d, k);
			break;
		}
	return 1;
}

/* Who made each change: the `to` side's recorder rows since `from` was taken. */
static void diff_attribute(struct diff *d)
{
	d->recorder = d->to->recorder;
	if (!d->recorder)
		return;
	for (size_t i = 0; i < d->n_changes; i++) {
		struct diff_change *c = &d->changes[i];

		/* A rename is recorded under the new name; a row under the old one is
		 * of what it was before (or of a DROP that the rename guessed wrong). */
		c->who = recorder_match(d->recorder, c->type == DIFF_RENAMED ? NULL : c->before,
					c->after, d->from->taken_at);
	}
}

int diff_models(const struct model *from, const struct model *to, struct diff **ret)
{
	struct diff *d;
	size_t i = 0, j = 0, cap = 0;
	int r = 0;

	if (!from || !to || !ret)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->from = from;
	d->to = to;
	d->from_major = diff_server_major(from->server_version);
	d->to_major = diff_server_major(to->server_version);
	while (r >= 0 && (i < from->n_objects || j < to->n_objects)) {
		const struct model_object *a = i < from->n_objects ? &from->objects[i] : NULL;
		const struct model_object *b = j < to->n_objects ? &to->objects[j] : NULL;
		int cmp = !a ? 1 : !b ? -1 : model_object_cmp(a, b);

		if (cmp < 0) {
			i++;
			if ((r = diff_partition_child(d, &cap, a, from, to, false)) != 0)
				continue;
			if (!diff_parent_changed(a, from, to)) {
				struct diff_change c = { .type = DIFF_REMOVED, .before = a,
							 .severity = diff_removed_severity(a) };

				r = diff_push(d, &cap, &c);
			}
		} else if (cmp > 0) {
			j++;
			if ((r = diff_partition_child(d, &cap, b, to, from, true)) != 0)
				continue;
			if (!diff_parent_changed(b, to, from)) {
				struct diff_change c = { .type = DIFF_ADDED, .after = b,
							 .severity = diff_added_severity(b) };

				r = diff_push(d, &cap, &c);
			}
		} else {
			i++;
			j++;
			r = diff_objects(d, &cap, a, b);
		}
	}
	if (r < 0) {
		diff_free(d);
		return r;
	}
	diff_detect_renames(d);
	diff_attribute(d);
	*ret = d;
	return 0;
}

/* ------------------------------------------------------------------ text */


/* A value as text for humans, malloc'd; NULL (absent) is "(none)". */
static char *diff_value_text(const struct model_value *v)
{
	return v ? model_value_text_dup(v) : strdup("(none)");
}

/* Writes n bytes under the escaping rule (utf8.h) so a line stays one line
 * and shows what it holds; tabs are kept when keep_tab (lines of a
 * multi-line value). */
static void diff_put_escaped(FILE *out, const char *s, size_t n, bool keep_tab)
{
	utf8_escape_fputs(s, n, keep_tab ? UTF8_KEEP_TAB : 0, out);
}

static void diff_put_str(FILE *out, const char *s)
{
	diff_put_escaped(out, s, strlen(s), false);
}

static void diff_color(FILE *out, bool color, const char *code)
{
	if (color)
		fputs(code, out);
}

struct diff_line {
	const char *s;
	size_t n;
};

/* Splits s at '\n' into a malloc'd array (NULL s: no lines). */
static int diff_split_lines(const char *s, struct diff_line **ret, size_t *ret_n)
{
	struct diff_line *lines;
	size_t n = 1, k = 0;
	const char *p;

	*ret = NULL;
	*ret_n = 0;
	if (!s)
		return 0;
	for (p = s; *p; p++)
		n += *p == '\n';
	lines = calloc(n, sizeof(*lines));
	if (!lines)
		return -ENOMEM;
	p = s;
	for (;;) {
		const char *nl = strchr(p, '\n');

		lines[k].s = p;
		lines[k].n = nl ? (size_t)(nl - p) : strlen(p);
		k++;
		if (!nl)
			break;
		p = nl + 1;
	}
	*ret = lines;
	*ret_n = k;
	return 0;
}

static bool diff_line_eq(const struct diff_line *a, const struct diff_line *b)
{
	return a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
}

struct diff_block_out {
	FILE *out;
	bool color;
};

static int diff_put_block_line(char sign, const char *s, size_t n, void *arg)
{
	struct diff_block_out *o = arg;

	diff_color(o->out, o->color, sign == '-' ? DIFF_RED : DIFF_GREEN);
	fprintf(o->out, "    %c ", sign);
	diff_put_escaped(o->out, s, n, true);
	diff_color(o->out, o->color, DIFF_RESET);
	fputc('\n', o->out);
	return 0;
}

int diff_value_lines(const char *before, const char *after, diff_line_fn fn, void *arg)
{
	struct diff_line *a = NULL, *b = NULL;
	size_t na, nb, pre = 0, i, j, n, m;
	unsigned int *lcs = NULL;
	int r;

#define DIFF_EMIT(sign, l) do { if ((r = fn((sign), (l)->s, (l)->n, arg)) < 0) goto out; } while (0)
	r = diff_split_lines(before, &a, &na);
	if (r == 0)
		r = diff_split_lines(after, &b, &nb);
	if (r < 0)
		goto out;
	while (pre < na && pre < nb && diff_line_eq(&a[pre], &b[pre]))
		pre++;
	while (na > pre && nb > pre && diff_line_eq(&a[na - 1], &b[nb - 1])) {
		na--;
		nb--;
	}
	n = na - pre;
	m = nb - pre;
	if (n && m && (n + 1) <= DIFF_LCS_MAX_CELLS / (m + 1))
		lcs = calloc((n + 1) * (m + 1), sizeof(*lcs));
	if (lcs) {
		/* lcs[i][j]: LCS length of a[pre+i..] and b[pre+j..]. */
		for (i = n; i-- > 0;)
			for (j = m; j-- > 0;) {
				unsigned int *cell = &lcs[i * (m + 1) + j];

				if (diff_line_eq(&a[pre + i], &b[pre + j]))
					*cell = lcs[(i + 1) * (m + 1) + j + 1] + 1;
				else if (lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1])
					*cell = lcs[(i + 1) * (m + 1) + j];
				else
					*cell = lcs[i * (m + 1) + j + 1];
			}
		i = j = 0;
		while (i < n && j < m) {
			if (diff_line_eq(&a[pre + i], &b[pre + j])) {
				i++;
				j++;
			} else if (lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
				DIFF_EMIT('-', &a[pre + i]);
				i++;
			} else {
				DIFF_EMIT('+', &b[pre + j]);
				j++;
			}
		}
	} else {
		i = j = 0;
	}
	for (; i < n; i++)
		DIFF_EMIT('-', &a[pre + i]);
	for (; j < m; j++)
		DIFF_EMIT('+', &b[pre + j]);
#undef DIFF_EMIT
out:
	free(lcs);
	free(a);
	free(b);
	return r;
}

/* Writes text line by line with indent; control characters escaped, tabs kept. */
static void diff_put_indented(FILE *out, const char *indent, const char *text)
{
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		fputs(indent, out);
		diff_put_escaped(out, p, n, true);
		fputc('\n', out);
		p += n + (nl ? 1 : 0);
	}
}

/* The lines that differ, old ones as "    - line" and new ones as "    + line". */
static int diff_write_block(FILE *out, bool color, const char *before, const char *after)
{
	struct diff_block_out o = { out, color };

	return diff_value_lines(before, after, diff_put_block_line, &o);
}

/* The attribution line under a change, when the `to` side has a recorder. */
static int diff_write_who(FILE *out, const struct diff_change *c)
{
	char *who;

	if (!c->who) {
		fputs("    " RECORDER_UNATTRIBUTED "\n", out);
		return 0;
	}
	if (!(who = recorder_who_text(c->who, DIFF_WHO_STATEMENT_MAX)))
		return -ENOMEM;
	fputs("    ", out);
	fputs(who, out); /* escaped by recorder_who_text */
	fputc('\n', out);
	free(who);
	return 0;
}

static int diff_write_change(const struct diff *d, FILE *out, bool color, bool explain,
			     const struct diff_change *c)
{
	const struct model_object *o = c->after ? c->after : c->before;
	const struct model_kind_info *info = model_kind_info(o->kind);
	const char *sev_color = c->severity == DIFF_BREAKING ? DIFF_RED :
				c->severity == DIFF_WARNING ? DIFF_YELLOW : NULL;
	char *name, *before = NULL, *after = NULL;
	bool block = false;
	int r = 0;

	name = model_object_name_dup(o);
	if (!name)
		return -ENOMEM;
	if (c->type == DIFF_MODIFIED) {
		before = c->old_value ? diff_value_text(c->old_value) : NULL;
		after = c->new_value ? diff_value_text(c->new_value) : NULL;
		if ((c->old_value && !before) || (c->new_value && !after)) {
			r = -ENOMEM;
			goto out;
		}
		/* Multi-line values, or values that would make "a -> b" ambiguous. */
		block = (before && (strchr(before, '\n') || strstr(before, " -> "))) ||
			(after && (strchr(after, '\n') || strstr(after, " -> ")));
	}

	diff_color(out, color, c->type == DIFF_ADDED ? DIFF_GREEN :
			       c->type == DIFF_REMOVED ? DIFF_RED : DIFF_YELLOW);
	fprintf(out, "%c %s ", c->type == DIFF_ADDED ? '+' : c->type == DIFF_REMOVED ? '-'
			       : c->type == DIFF_RENAMED ? '>' : '~',
		info ? info->label : "object");
	if (c->type == DIFF_RENAMED) {
		char *old = model_object_name_dup(c->before);
		if (!old) {
			r = -ENOMEM;
			goto out;
		}
		diff_put_str(out, old);
		fputs(" renamed to ", out);
		free(old);
	}
	diff_put_str(out, name);
	if (c->type == DIFF_MODIFIED) {
		fputs(": ", out);
		diff_put_str(out, c->attribute);
		if (block) {
			fputs(" changed", out);
		} else {
			fputc(' ', out);
			diff_put_str(out, before ? before : "(none)");
			fputs(" -> ", out);
			diff_put_str(out, after ? after : "(none)");
		}
	}
	diff_color(out, color, DIFF_RESET);
	fputc(' ', out);
	if (sev_color)
		diff_color(out, color, sev_color);
	fprintf(out, "[%s]", c->server_rendering ? "server rendering"
						  : diff_severity_name(c->severity));
	if (sev_color)
		diff_color(out, color, DIFF_RESET);
	if (c->acknowledged) {
		fputs(" (acknowledged: ", out);
		diff_put_str(out, c->ack_reason ? c->ack_reason : "");
		fputc(')', out);
	}
	fputc('\n', out);
	if (block)
		r = diff_write_block(out, color, before, after);
	if (r == 0 && d->recorder && !c->server_rendering)
		r = diff_write_who(out, c);
	if (r == 0 && explain) {
		char *def;

		r = diff_change_definition(d, c, &def);
		if (r == 0 && def)
			diff_put_indented(out, "    ", def);
		free(def);
	}
out:
	free(name);
	free(before);
	free(after);
	return r;
}

int diff_write_text(const struct diff *d, FILE *out, unsigned flags, const char *target)
{
	bool color = flags & DIFF_TEXT_COLOR, explain = flags & DIFF_TEXT_EXPLAIN;
	int r;

	if (!d || !out)
		return -EINVAL;
	for (size_t i = 0; i < d->n_changes; i++) {
		r = diff_write_change(d, out, color, explain, &d->changes[i]);
		if (r < 0)
			return r;
	}
	if (d->n_rendering) {
		fprintf(out, "rendered differently by PostgreSQL %d and %d, not drift:\n",
			d->from_major, d->to_major);
		for (size_t i = 0; i < d->n_rendering; i++) {
			r = diff_write_change(d, out, color, false, &d->rendering[i]);
			if (r < 0)
				return r;
		}
	}
	if (d->n_changes == 0)
		fputs("no changes\n", out);
	else if (d->n_acknowledged)
		fprintf(out, "%zu change%s: %zu breaking, %zu warning, %zu info, %zu acknowledged\n",
			d->n_changes, d->n_changes == 1 ? "" : "s", d->by_severity[DIFF_BREAKING],
			d->by_severity[DIFF_WARNING], d->by_severity[DIFF_INFO], d->n_acknowledged);
	else
		fprintf(out, "%zu change%s: %zu breaking, %zu warning, %zu info\n", d->n_changes,
			d->n_changes == 1 ? "" : "s", d->by_severity[DIFF_BREAKING], d->by_severity[DIFF_WARNING],
			d->by_severity[DIFF_INFO]);
	if (d->recorder && recorder_problem(d->recorder))
		fprintf(out, "attribution: %s\n", recorder_problem(d->recorder));
	if (explain && (r = diff_write_resolve(d, out, target)) < 0)
		return r;
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}

/* ------------------------------------------------------------------ SQL */

int diff_change_definition(const struct diff *d, const struct diff_change *c, char **ret)
{
	*ret = NULL;
	if (c->type == DIFF_ADDED)
		return sql_definition(d->to, c->after, ret);
	if (c->type == DIFF_REMOVED)
		return sql_definition(d->from, c->before, ret);
	/* Privileges read best as who got (or lost) what: the GRANTs and REVOKEs. */
	if (c->type == DIFF_MODIFIED && strcmp(c->attribute, "acl") == 0)
		return diff_change_sql(d, c, false, ret);
	return 0;
}

/* An ACL change that ALTER ... OWNER TO, changed beside it, brings about by itself. */
static bool diff_acl_follows_owner(const struct diff *d, const struct diff_change *c, bool reverse)
{
	for (size_t i = 0; i < d->n_changes; i++) {
		const struct diff_change *o = &d->changes[i];

		if (o->type != DIFF_MODIFIED || o->before != c->before ||
		    strcmp(o->attribute, "owner") != 0 || !o->old_value || !o->new_value ||
		    o->old_value->type != MODEL_STR || o->new_value->type != MODEL_STR)
			continue;
		return reverse ? sql_acl_follows_owner(c->new_value, c->old_value,
						       o->new_value->u.str, o->old_value->u.str)
			       : sql_acl_follows_owner(c->old_value, c->new_value,
						       o->old_value->u.str, o->new_value->u.str);
	}
	return false;
}

int diff_change_sql(const struct diff *d, const struct diff_change *c, bool reverse, char **ret)
{
	/* Reversed, the change reads from `to` to `from`: an added object is
	 * dropped, a removed one created, a value set back. */
	const struct model *from = reverse ? d->to : d->from, *to = reverse ? d->from : d->to;
	const struct model_object *was = reverse ? c->after : c->before;
	const struct model_object *now = reverse ? c->before : c->after;

	*ret = NULL;
	switch (c->type) {
	case DIFF_ADDED:
	case DIFF_REMOVED:
		if ((c->type == DIFF_ADDED) != reverse)
			return sql_create(to, now, ret);
		return sql_drop(from, was, ret);
	case DIFF_MODIFIED:
		if (strcmp(c->attribute, "acl") == 0 && diff_acl_follows_owner(d, c, reverse)) {
			*ret = strdup("-- privileges follow the owner change\n");
			return *ret ? 0 : -ENOMEM;
		}
		return sql_alter(to, now, c->attribute, reverse ? c->new_value : c->old_value,
				 reverse ? c->old_value : c->new_value, ret);
	case DIFF_RENAMED:
		return sql_rename(from, was, now->name, ret);
	}
	return 0;
}

/*
 * The order statements can run in: what depends on others goes first when
 * dropped and last when created (a policy before its table's column, a
 * constraint before its index...), values in between, privileges last.
 */
static int diff_sql_rank(const struct diff_change *c, bool reverse)
{
	const struct model_object *o = c->after ? c->after : c->before;
	const struct model_attr *type = model_object_attr(o, "type");
	bool fk = o->kind == MODEL_CONSTRAINT && type && type->value.type == MODEL_STR &&
		  strcmp(type->value.u.str, "foreign key") == 0;
	static const enum model_kind drop_order[] = {
		MODEL_POLICY, MODEL_TRIGGER, MODEL_RULE, MODEL_CONSTRAINT, MODEL_INDEX,
		MODEL_STATISTICS, MODEL_VIEW, MODEL_MATERIALIZED_VIEW, MODEL_AGGREGATE,
		MODEL_FUNCTION, MODEL_PROCEDURE,
	};
	int k = (int)(sizeof(drop_order) / sizeof(drop_order[0]));

	for (int i = 0; i < (int)(sizeof(drop_order) / sizeof(drop_order[0])); i++)
		if (drop_order[i] == o->kind)
			k = i;
	switch (c->type) {
	case DIFF_ADDED:
	case DIFF_REMOVED:
		if ((c->type == DIFF_REMOVED) != reverse) /* dropped */
			return 100 + (fk ? 0 : 1) + 2 * k;
		return 400 - (fk ? 0 : 1) - 2 * k; /* created */
	case DIFF_RENAMED:
		return 200;
	case DIFF_MODIFIED:
		/* The owner first: it rewrites the privileges, which may follow. */
		if (strcmp(c->attribute, "owner") == 0)
			return 450;
		if (strcmp(c->attribute, "acl") == 0 || strcmp(c->attribute, "comment") == 0)
			return 500;
		return 300;
	}
	return 300;
}

struct diff_sql_item {
	const struct diff_change *c;
	int rank;
	size_t at;
};

static int diff_sql_item_cmp(const void *a, const void *b)
{
	const struct diff_sql_item *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* The changes in the order their statements can run; skips acknowledged ones. */
static int diff_sql_order(const struct diff *d, bool reverse, struct diff_sql_item **ret,
			  size_t *ret_n)
{
	struct diff_sql_item *items = calloc(d->n_changes ? d->n_changes : 1, sizeof(*items));
	size_t n = 0;

	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_changes; i++) {
		if (d->changes[i].acknowledged)
			continue;
		items[n].c = &d->changes[i];
		items[n].rank = diff_sql_rank(&d->changes[i], reverse);
		items[n].at = i;
		n++;
	}
	qsort(items, n, sizeof(*items), diff_sql_item_cmp);
	*ret = items;
	*ret_n = n;
	return 0;
}

/* "~ column public.t.c: type" on one line (names escaped). */
static int diff_put_change_title(FILE *out, const struct diff_change *c)
{
	const struct model_object *o = c->after ? c->after : c->before;
	const struct model_kind_info *info = model_kind_info(o->kind);
	char *name = model_object_name_dup(o);

	if (!name)
		return -ENOMEM;
	fprintf(out, "%c %s ", c->type == DIFF_ADDED ? '+' : c->type == DIFF_REMOVED ? '-'
			     : c->type == DIFF_RENAMED ? '>' : '~',
		info ? info->label : "object");
	diff_put_str(out, name);
	if (c->type == DIFF_MODIFIED) {
		fputs(": ", out);
		diff_put_str(out, c->attribute);
	}
	free(name);
	return 0;
}

/* Statements for every change in order, or a comment where none is known. */
static int diff_put_statements(const struct diff *d, FILE *out, bool reverse, const char *indent,
			       bool titles)
{
	struct diff_sql_item *items = NULL;
	size_t n = 0;
	int r = diff_sql_order(d, reverse, &items, &n);

	char *prev = NULL;

	for (size_t i = 0; r == 0 && i < n; i++) {
		char *sql;

		r = diff_change_sql(d, items[i].c, reverse, &sql);
		if (r < 0)
			break;
		/* Several changes of one view or function: one CREATE OR REPLACE. */
		if (sql && prev && strcmp(sql, prev) == 0) {
			if (titles) {
				fputs(indent, out);
				fputs("-- ", out);
				r = diff_put_change_title(out, items[i].c);
				fputs(": in the statement above\n", out);
			}
			free(sql);
			continue;
		}
		if (titles || !sql) {
			fputs(indent, out);
			fputs(sql ? "-- " : "-- no exact SQL known, write it by hand: ", out);
			r = diff_put_change_title(out, items[i].c);
			fputc('\n', out);
		}
		if (sql)
			diff_put_indented(out, indent, sql);
		free(prev);
		prev = sql;
	}
	free(prev);
	free(items);
	return r;
}

int diff_write_sql(const struct diff *d, FILE *out, bool reverse)
{
	int r;

	if (!d || !out)
		return -EINVAL;
	fprintf(out, "-- Suggested by schemadrift: SQL that turns %s into %s.\n"
		     "-- Review every statement before running it; schemadrift never runs it.\n"
		     "-- CONCURRENTLY statements cannot run inside a transaction block.\n",
		reverse ? "B" : "A", reverse ? "A" : "B");
	if (d->n_changes == d->n_acknowledged)
		fputs("-- no changes\n", out);
	r = diff_put_statements(d, out, reverse, "", true);
	if (r == 0 && (fflush(out) != 0 || ferror(out)))
		r = -EIO;
	return r;
}

void diff_put_shell_word(FILE *out, const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			    "_@%+=:,./-") == strlen(s)) {
		fputs(s, out);
		return;
	}
	fputc('\'', out);
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", out);
		else
			diff_put_escaped(out, p, 1, false);
	}
	fputc('\'', out);
}

int diff_ack_pattern_of(const char *kind, const char *name, char **ret)
{
	char *out = malloc(strlen(kind) + 2 + 2 * strlen(name));
	size_t n;

	if (!out)
		return -ENOMEM;
	/* The pattern is a glob (fnmatch): a name's own *, ?, [ and \ are literal. */
	n = (size_t)sprintf(out, "%s:", kind);
	for (const char *p = name; *p; p++) {
		if (strchr("*?[]\\", *p))
			out[n++] = '\\';
		out[n++] = *p;
	}
	out[n] = '\0';
	*ret = out;
	return 0;
}

int diff_ack_pattern(const struct model_object *o, char **ret)
{
	const struct model_kind_info *info = model_kind_info(o->kind);
	char *name = model_object_name_dup(o);
	int r;

	if (!name || !info) {
		free(name);
		return -ENOMEM;
	}
	r = diff_ack_pattern_of(info->name, name, ret);
	free(name);
	return r;
}

/* At most this many `schemadrift ack` lines in a text diff. */
#define DIFF_ACK_LINES 5

int diff_write_resolve(const struct diff *d, FILE *out, const char *target)
{
	const char *t = target ? target : "TARGET";
	size_t shown = 0, objects = 0;
	int r = 0;

	if (!d || !out)
		return -EINVAL;
	if (d->n_changes == d->n_acknowledged)
		return 0;
	fputs("\nWhat to do:\n"
	      "  accept the changes as the new baseline:\n"
	      "    schemadrift baseline accept ",
	      out);
	diff_put_shell_word(out, t);
	fputs(" --reason '...'\n"
	      "  or acknowledge an object's drift (an accepted exception):\n",
	      out);
	for (size_t i = 0; r == 0 && i < d->n_changes; i++) {
		const struct diff_change *c = &d->changes[i];
		const struct model_object *o = c->after ? c->after : c->before;
		bool seen = false;
		char *pattern;

		if (c->acknowledged)
			continue;
		for (size_t j = 0; j < i && !seen; j++) {
			const struct diff_change *e = &d->changes[j];

			seen = !e->acknowledged &&
			       model_object_cmp(e->after ? e->after : e->before, o) == 0;
		}
		if (seen)
			continue;
		objects++;
		if (shown == DIFF_ACK_LINES)
			continue;
		if ((r = diff_ack_pattern(o, &pattern)) < 0)
			break;
		fputs("    schemadrift ack ", out);
		diff_put_shell_word(out, t);
		fputc(' ', out);
		diff_put_shell_word(out, pattern);
		fputs(" --reason '...'\n", out);
		free(pattern);
		shown++;
	}
	if (objects > shown)
		fprintf(out, "    (and %zu more objects: one ack each, or a [KIND:]GLOB)\n",
			objects - shown);
	fputs("  or revert it: the suggested SQL below turns B back into A; review it before\n"
	      "  running it (schemadrift never runs it):\n",
	      out);
	if (r == 0)
		r = diff_put_statements(d, out, true, "    ", false);
	return r;
}

/* ------------------------------------------------------------------ JSON */

/* Sets key to value (a new reference, may be NULL); -ENOMEM on failure. */
static int diff_json_set(json_t *obj, const char *key, json_t *value)
{
	if (!value)
		return -ENOMEM;
	return json_object_set_new(obj, key, value) == 0 ? 0 : -ENOMEM;
}

static json_t *diff_string_json(const char *s)
{
	return s ? snapshot_string_json(s) : json_null();
}

static json_t *diff_value_json(const struct model_value *v)
{
	json_t *arr;

	if (!v)
		return json_null();
	switch (v->type) {
	case MODEL_NULL:
		return json_null();
	case MODEL_STR:
		return diff_string_json(v->u.str);
	case MODEL_BOOL:
		return json_boolean(v->u.b);
	case MODEL_INT:
		return json_integer(v->u.i);
	case MODEL_LIST:
		arr = json_array();
		if (!arr)
			return NULL;
		for (size_t i = 0; i < v->u.list.n; i++) {
			if (json_array_append_new(arr, diff_string_json(v->u.list.items[i])) < 0) {
				json_decref(arr);
				return NULL;
			}
		}
		return arr;
	}
	return NULL;
}

static json_t *diff_side_json(const struct model *m, const char *label)
{
	json_t *side = json_object();
	char hex[65];
	int r;

	if (!side)
		return NULL;
	r = diff_json_set(side, "source", diff_string_json(label));
	if (r == 0) {
		if (m->hashed) {
			snapshot_hash_hex(m->hash, hex);
			r = diff_json_set(side, "hash", json_string(hex));
		} else {
			r = diff_json_set(side, "hash", json_null());
		}
	}
	if (r < 0) {
		json_decref(side);
		return NULL;
	}
	return side;
}

/* A recorder row as the diff's JSON shows it (docs/diff-format.md). */
static json_t *diff_who_json(const struct model_ddl_event *e)
{
	json_t *j = json_object();
	char *text = recorder_who_text(e, DIFF_WHO_STATEMENT_MAX);
	const struct { const char *k, *v; } strs[] = {
		{ "session_role", e->session_role }, { "current_role", e->current_role },
		{ "client_addr", e->client_addr }, { "application", e->application },
		{ "at", e->at }, { "command_tag", e->command_tag },
		{ "object_type", e->object_type }, { "object_identity", e->object_identity },
		{ "statement", e->statement },
	};
	int r = j && text ? 0 : -ENOMEM;

	for (size_t k = 0; r == 0 && k < sizeof(strs) / sizeof(strs[0]); k++)
		r = diff_json_set(j, strs[k].k, strs[k].v ? snapshot_string_json(strs[k].v)
							  : json_null());
	if (r == 0 && e->client_port)
		r = diff_json_set(j, "client_port", json_integer(e->client_port));
	if (r == 0)
		r = diff_json_set(j, "backend_pid", json_integer(e->backend_pid));
	if (r == 0)
		r = diff_json_set(j, "xid", json_integer(e->xid));
	if (r == 0)
		r = diff_json_set(j, "text", json_string(text));
	free(text);
	if (r < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *diff_change_json(const struct diff *d, const struct diff_change *c)
{
	const struct model_object *o = c->after ? c->after : c->before;
	const struct model_kind_info *info = model_kind_info(o->kind);
	json_t *j = json_object();
	char *name = NULL;
	int r;

	if (!j)
		return NULL;
	r = diff_json_set(j, "change", json_string(diff_type_name(c->type)));
	if (r == 0)
		r = diff_json_set(j, "severity", json_string(diff_severity_name(c->severity)));
	if (r == 0)
		r = diff_json_set(j, "kind", info ? json_string(info->name) : json_null());
	if (r == 0 && o->schema)
		r = diff_json_set(j, "schema", snapshot_string_json(o->schema));
	if (r == 0 && o->parent)
		r = diff_json_set(j, "parent", snapshot_string_json(o->parent));
	if (r == 0)
		r = diff_json_set(j, "name", diff_string_json(o->name));
	if (r == 0 && o->signature)
		r = diff_json_set(j, "signature", snapshot_string_json(o->signature));
	if (r == 0) {
		name = model_object_name_dup(o);
		r = diff_json_set(j, "object", name ? snapshot_string_json(name) : NULL);
	}
	if (r == 0 && c->type == DIFF_RENAMED) {
		char *old = model_object_name_dup(c->before);
		r = diff_json_set(j, "renamed_from", old ? snapshot_string_json(c->before->name) : NULL);
		if (r == 0)
			r = diff_json_set(j, "renamed_from_object", old ? snapshot_string_json(old) : NULL);
		free(old);
	}
	if (r == 0 && c->type == DIFF_MODIFIED) {
		r = diff_json_set(j, "attribute", snapshot_string_json(c->attribute));
		if (r == 0)
			r = diff_json_set(j, "before", diff_value_json(c->old_value));
		if (r == 0)
			r = diff_json_set(j, "after", diff_value_json(c->new_value));
	}
	if (r == 0) {
		char *def = NULL, *sql = NULL;

		r = diff_change_definition(d, c, &def);
		if (r == 0)
			r = diff_change_sql(d, c, true, &sql);
		if (r == 0 && def)
			r = diff_json_set(j, "definition", snapshot_string_json(def));
		if (r == 0 && sql)
			r = diff_json_set(j, "revert_sql", snapshot_string_json(sql));
		free(def);
		free(sql);
	}
	if (r == 0 && c->server_rendering)
		r = diff_json_set(j, "server_rendering", json_true());
	if (r == 0 && d->recorder && !c->server_rendering)
		r = diff_json_set(j, "attribution", c->who ? diff_who_json(c->who) : json_null());
	if (r == 0 && c->acknowledged) {
		r = diff_json_set(j, "acknowledged", json_true());
		if (r == 0)
			r = diff_json_set(j, "ack_reason", diff_string_json(c->ack_reason));
	}
	free(name);
	if (r < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *diff_to_json(const struct diff *d, const char *from_label, const char *to_label)
{
	json_t *root, *head = NULL, *summary = NULL, *changes = NULL;
	int r;

	if (!d)
		return NULL;
	root = json_object();
	if (!root)
		return NULL;
	head = json_object();
	r = diff_json_set(root, "schemadrift_diff", head);
	if (r == 0)
		r = diff_json_set(head, "version", json_integer(1));
	if (r == 0)
		r = diff_json_set(head, "from", diff_side_json(d->from, from_label));
	if (r == 0)
		r = diff_json_set(head, "to", diff_side_json(d->to, to_label));

	if (r == 0) {
		summary = json_object();
		r = diff_json_set(root, "summary", summary);
	}
	if (r == 0) {
		const struct {
			const char *key;
			size_t n;
		} counts[] = {
			{ "changes", d->n_changes },
			{ "added", d->by_type[DIFF_ADDED] },
			{ "removed", d->by_type[DIFF_REMOVED] },
			{ "modified", d->by_type[DIFF_MODIFIED] },
			{ "renamed", d->by_type[DIFF_RENAMED] },
			{ "breaking", d->by_severity[DIFF_BREAKING] },
			{ "warning", d->by_severity[DIFF_WARNING] },
			{ "info", d->by_severity[DIFF_INFO] },
		};

		for (size_t i = 0; r == 0 && i < sizeof(counts) / sizeof(counts[0]); i++)
			r = diff_json_set(summary, counts[i].key,
					  json_integer((json_int_t)counts[i].n));
		if (r == 0 && d->n_acknowledged)
			r = diff_json_set(summary, "acknowledged",
					  json_integer((json_int_t)d->n_acknowledged));
		if (r == 0 && d->n_rendering)
			r = diff_json_set(summary, "server_rendering",
					  json_integer((json_int_t)d->n_rendering));
	}

	if (r == 0) {
		changes = json_array();
		r = diff_json_set(root, "changes", changes);
	}
	for (size_t i = 0; r == 0 && i < d->n_changes; i++)
		if (json_array_append_new(changes, diff_change_json(d, &d->changes[i])) < 0)
			r = -ENOMEM;
	if (r == 0 && d->recorder) {
		json_t *rec = json_object();
		const char *problem = recorder_problem(d->recorder);

		r = diff_json_set(root, "recorder", rec);
		if (r == 0)
			r = diff_json_set(rec, "schema", snapshot_string_json(d->recorder->schema));
		if (r == 0)
			r = diff_json_set(rec, "problem", problem ? json_string(problem) : json_null());
	}
	if (r == 0 && d->n_rendering) {
		json_t *rendering = json_array();

		r = diff_json_set(root, "server_rendering", rendering);
		for (size_t i = 0; r == 0 && i < d->n_rendering; i++)
			if (json_array_append_new(rendering, diff_change_json(d, &d->rendering[i])) < 0)
				r = -ENOMEM;
	}
	if (r < 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}
