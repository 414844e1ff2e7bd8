/* Unit tests for lib/diff.c: changes, child suppression, severities, text and JSON output. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream */
#endif

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "model.h"
#include "snapshot.h"

/* ------------------------------------------------------------ helpers */

static struct model *test_model(void)
{
	struct model *m = NULL;

	ck_assert_int_eq(model_new(&m), 0);
	ck_assert_ptr_nonnull(m);
	return m;
}

static void test_begin(struct model *m, enum model_kind kind, const char *schema,
		       const char *parent, const char *name)
{
	ck_assert_int_eq(model_begin(m, kind, schema, parent, name, NULL), 0);
}

static void test_end(struct model *m)
{
	ck_assert_int_eq(model_end(m), 0);
}

static void test_finish(struct model *m)
{
	ck_assert_int_eq(model_finish(m), 0);
}

static void test_schema(struct model *m, const char *name)
{
	test_begin(m, MODEL_SCHEMA, NULL, NULL, name);
	test_end(m);
}

static void test_table(struct model *m, const char *schema, const char *name)
{
	test_begin(m, MODEL_TABLE, schema, NULL, name);
	ck_assert_int_eq(model_set_bool(m, "unlogged", false), 0);
	test_end(m);
}

static void test_column(struct model *m, const char *schema, const char *table,
			const char *name, const char *type, long long position, bool not_null)
{
	test_begin(m, MODEL_COLUMN, schema, table, name);
	ck_assert_int_eq(model_set_int(m, "position", position), 0);
	ck_assert_int_eq(model_set_str(m, "type", type), 0);
	ck_assert_int_eq(model_set_bool(m, "not_null", not_null), 0);
	test_end(m);
}

static void test_simple(struct model *m, enum model_kind kind, const char *schema,
			const char *parent, const char *name)
{
	test_begin(m, kind, schema, parent, name);
	test_end(m);
}

static struct diff *test_diff(const struct model *a, const struct model *b)
{
	struct diff *d = NULL;

	ck_assert_int_eq(diff_models(a, b, &d), 0);
	ck_assert_ptr_nonnull(d);
	return d;
}

/* The text output, malloc'd. */
static char *test_text(const struct diff *d, bool color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(diff_write_text(d, f, color ? DIFF_TEXT_COLOR : 0, NULL), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_ptr_nonnull(buf);
	return buf;
}

/* The JSON output, compact and in insertion order, malloc'd. */
static char *test_json(const struct diff *d, const char *from, const char *to)
{
	json_t *j = diff_to_json(d, from, to);
	char *s;

	ck_assert_ptr_nonnull(j);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	ck_assert_ptr_nonnull(s);
	return s;
}

static const char *test_obj_name(const struct diff_change *c)
{
	return c->after ? c->after->name : c->before->name;
}

/* A typed attribute value for table-driven tests; MODEL_NULL means absent. */
struct test_value {
	enum model_type type;
	const char *s;
	long long i;
};

/* Initializers (usable in static tables); cast for a compound literal. */
#define TV_ABSENT { MODEL_NULL, NULL, 0 }
#define TV_STR(x) { MODEL_STR, (x), 0 }
#define TV_BOOL(x) { MODEL_BOOL, NULL, (x) }
#define TV_INT(x) { MODEL_INT, NULL, (x) }

static void test_set(struct model *m, const char *attr, struct test_value v)
{
	switch (v.type) {
	case MODEL_STR:
		ck_assert_int_eq(model_set_str(m, attr, v.s), 0);
		break;
	case MODEL_BOOL:
		ck_assert_int_eq(model_set_bool(m, attr, v.i != 0), 0);
		break;
	case MODEL_INT:
		ck_assert_int_eq(model_set_int(m, attr, v.i), 0);
		break;
	default:
		break;
	}
}

/* A model with table public.t and one object of `kind` whose `attr` is v. */
static struct model *test_one_attr(enum model_kind kind, const char *attr, struct test_value v)
{
	struct model *m = test_model();
	bool child = model_kind_info(kind)->has_parent;

	test_table(m, "public", "t");
	test_begin(m, kind, "public", child ? "t" : NULL, kind == MODEL_TABLE ? "t2" : "x");
	test_set(m, attr, v);
	test_end(m);
	test_finish(m);
	return m;
}

/* The severity of changing `attr` of a `kind` object from a to b (exactly one change). */
static enum diff_severity test_modified_severity(enum model_kind kind, const char *attr,
						 struct test_value a, struct test_value b)
{
	struct model *from = test_one_attr(kind, attr, a), *to = test_one_attr(kind, attr, b);
	struct diff *d = test_diff(from, to);
	enum diff_severity sev;

	ck_assert_uint_eq(d->n_changes, 1);
	ck_assert_int_eq(d->changes[0].type, DIFF_MODIFIED);
	ck_assert_str_eq(d->changes[0].attribute, attr);
	ck_assert_int_eq(d->changes[0].before->kind, kind);
	sev = d->changes[0].severity;
	diff_free(d);
	model_free(from);
	model_free(to);
	return sev;
}

/* --------------------------------------------------------- basic diffs */

START_TEST(test_names)
{
	ck_assert_str_eq(diff_type_name(DIFF_ADDED), "added");
	ck_assert_str_eq(diff_type_name(DIFF_REMOVED), "removed");
	ck_assert_str_eq(diff_type_name(DIFF_MODIFIED), "modified");
	ck_assert_str_eq(diff_severity_name(DIFF_INFO), "info");
	ck_assert_str_eq(diff_severity_name(DIFF_WARNING), "warning");
	ck_assert_str_eq(diff_severity_name(DIFF_BREAKING), "breaking");
}
END_TEST

START_TEST(test_invalid_args)
{
	struct model *m = test_model();
	struct diff *d = NULL;

	test_finish(m);
	ck_assert_int_eq(diff_models(NULL, m, &d), -EINVAL);
	ck_assert_int_eq(diff_models(m, NULL, &d), -EINVAL);
	ck_assert_int_eq(diff_models(m, m, NULL), -EINVAL);
	ck_assert_ptr_null(d);
	diff_free(NULL);
	model_free(m);
}
END_TEST

static struct model *test_orders_model(void)
{
	struct model *m = test_model();

	test_schema(m, "public");
	test_table(m, "public", "orders");
	test_column(m, "public", "orders", "id", "bigint", 1, true);
	test_column(m, "public", "orders", "total", "numeric(10,2)", 2, false);
	test_finish(m);
	return m;
}

START_TEST(test_identical)
{
	struct model *a = test_orders_model(), *b = test_orders_model();
	struct diff *d = test_diff(a, b);
	char *text, *json;

	ck_assert_uint_eq(d->n_changes, 0);
	ck_assert_ptr_eq(d->from, a);
	ck_assert_ptr_eq(d->to, b);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(d->by_type[i], 0);
		ck_assert_uint_eq(d->by_severity[i], 0);
	}
	text = test_text(d, false);
	ck_assert_str_eq(text, "no changes\n");
	json = test_json(d, "a", "b");
	ck_assert_str_eq(json, "{\"schemadrift_diff\":{\"version\":1,"
			       "\"from\":{\"source\":\"a\",\"hash\":null},"
			       "\"to\":{\"source\":\"b\",\"hash\":null}},"
			       "\"summary\":{\"changes\":0,\"added\":0,\"removed\":0,"
			       "\"modified\":0,\"renamed\":0,\"breaking\":0,\"warning\":0,\"info\":0},"
			       "\"changes\":[]}");
	free(text);
	free(json);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

START_TEST(test_empty_models)
{
	struct model *a = test_model(), *b = test_model();
	struct diff *d;

	test_finish(a);
	test_finish(b);
	d = test_diff(a, b);
	ck_assert_uint_eq(d->n_changes, 0);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

START_TEST(test_added_removed)
{
	struct model *a = test_model(), *b = test_model();
	struct diff *d;
	char *text;

	test_schema(a, "public");
	test_table(a, "public", "a");
	test_column(a, "public", "a", "id", "integer", 1, true);
	test_table(a, "public", "c");
	test_finish(a);
	test_schema(b, "public");
	test_table(b, "public", "b");
	/* Not the same content as a.id, so b is not a renamed a. */
	test_column(b, "public", "b", "id", "bigint", 1, true);
	test_table(b, "public", "c");
	test_column(b, "public", "c", "x", "text", 1, false);
	test_schema(b, "app");
	test_finish(b);

	d = test_diff(a, b);
	ck_assert_uint_eq(d->n_changes, 4);
	/* Canonical order: schema "app" sorts before everything in "public". */
	ck_assert_int_eq(d->changes[0].type, DIFF_ADDED);
	ck_assert_int_eq(d->changes[0].after->kind, MODEL_SCHEMA);
	ck_assert_ptr_null(d->changes[0].before);
	ck_assert_int_eq(d->changes[1].type, DIFF_REMOVED);
	ck_assert_str_eq(test_obj_name(&d->changes[1]), "a");
	ck_assert_ptr_null(d->changes[1].after);
	ck_assert_ptr_null(d->changes[1].attribute);
	ck_assert_int_eq(d->changes[1].severity, DIFF_BREAKING);
	ck_assert_int_eq(d->changes[2].type, DIFF_ADDED);
	ck_assert_str_eq(test_obj_name(&d->changes[2]), "b");
	ck_assert_int_eq(d->changes[2].severity, DIFF_INFO);
	ck_assert_int_eq(d->changes[3].type, DIFF_ADDED);
	ck_assert_int_eq(d->changes[3].after->kind, MODEL_COLUMN);
	ck_assert_str_eq(test_obj_name(&d->changes[3]), "x");
	ck_assert_uint_eq(d->by_type[DIFF_ADDED], 3);
	ck_assert_uint_eq(d->by_type[DIFF_REMOVED], 1);
	ck_assert_uint_eq(d->by_type[DIFF_MODIFIED], 0);
	ck_assert_uint_eq(d->by_severity[DIFF_BREAKING], 1);
	ck_assert_uint_eq(d->by_severity[DIFF_INFO], 3);

	text = test_text(d, false);
	ck_assert_str_eq(text, "+ schema app [info]\n"
			       "- table public.a [breaking]\n"
			       "+ table public.b [info]\n"
			       "+ column public.c.x [info]\n"
			       "4 changes: 1 breaking, 0 warning, 3 info\n");
	free(text);
	diff_free(d);

	/* The other way round. */
	d = test_diff(b, a);
	ck_assert_uint_eq(d->n_changes, 4);
	ck_assert_int_eq(d->changes[0].type, DIFF_REMOVED);
	ck_assert_int_eq(d->changes[0].severity, DIFF_BREAKING);
	ck_assert_int_eq(d->changes[1].type, DIFF_ADDED);
	ck_assert_int_eq(d->changes[2].type, DIFF_REMOVED);
	ck_assert_int_eq(d->changes[3].type, DIFF_REMOVED);
	ck_assert_int_eq(d->changes[3].severity, DIFF_BREAKING);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

START_TEST(test_child_suppression)
{
	struct model *a = test_model(), *b = test_model();
	struct diff *d;
	char *text;

	test_schema(a, "public");
	/* Removed table with every kind of child. */
	test_table(a, "public", "gone");
	test_column(a, "public", "gone", "id", "integer", 1, true);
	test_simple(a, MODEL_CONSTRAINT, "public", "gone", "gone_pkey");
	test_simple(a, MODEL_INDEX, "public", "gone", "gone_pkey");
	/* Kept table: a removed column is listed. */
	test_table(a, "public", "kept");
	test_column(a, "public", "kept", "id", "integer", 1, true);
	test_column(a, "public", "kept", "old", "integer", 2, false);
	/* A table replaced by a view of the same name: the table's columns go with it. */
	test_table(a, "public", "swap");
	test_column(a, "public", "swap", "id", "integer", 1, true);
	/* Same table name in another schema stays: its column removal is listed. */
	test_schema(a, "other");
	test_table(a, "other", "gone");
	test_column(a, "other", "gone", "id", "integer", 1, true);
	/* An orphan child (parent absent on both sides) is still listed. */
	test_column(a, "public", "nowhere", "id", "integer", 1, false);
	test_finish(a);

	test_schema(b, "public");
	test_table(b, "public", "kept");
	test_column(b, "public", "kept", "id", "integer", 1, true);
	test_begin(b, MODEL_VIEW, "public", NULL, "swap");
	ck_assert_int_eq(model_set_str(b, "definition", " SELECT 1;"), 0);
	test_end(b);
	/* Added materialized view with an index: only the view is listed. */
	test_simple(b, MODEL_MATERIALIZED_VIEW, "public", NULL, "mv");
	test_simple(b, MODEL_INDEX, "public", "mv", "mv_idx");
	/* Added table with columns and a constraint: only the table. */
	test_table(b, "public", "fresh");
	test_column(b, "public", "fresh", "id", "integer", 1, true);
	test_simple(b, MODEL_CONSTRAINT, "public", "fresh", "fresh_pkey");
	test_schema(b, "other");
	test_table(b, "other", "gone");
	test_finish(b);

	d = test_diff(a, b);
	text = test_text(d, false);
	ck_assert_str_eq(text, "- column other.gone.id [breaking]\n"
			       "+ table public.fresh [info]\n"
			       "- table public.gone [breaking]\n"
			       "- column public.kept.old [breaking]\n"
			       "+ materialized view public.mv [info]\n"
			       "- column public.nowhere.id [breaking]\n"
			       "- table public.swap [breaking]\n"
			       "+ view public.swap [info]\n"
			       "8 changes: 5 breaking, 0 warning, 3 info\n");
	free(text);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

START_TEST(test_attribute_level)
{
	struct model *a = test_model(), *b = test_model();
	const char *const inh_a[] = { "public.p1" }, *const inh_b[] = { "public.p1", "public.p2" };
	struct diff *d;
	const struct diff_change *c;

	test_table(a, "public", "t");
	test_begin(a, MODEL_COLUMN, "public", "t", "c");
	ck_assert_int_eq(model_set_str(a, "collation", "pg_catalog.\"C\""), 0);
	ck_assert_int_eq(model_set_bool(a, "not_null", false), 0);
	ck_assert_int_eq(model_set_int(a, "position", 1), 0);
	ck_assert_int_eq(model_set_str(a, "type", "character varying(20)"), 0);
	test_end(a);
	test_begin(a, MODEL_TABLE, "public", NULL, "u");
	ck_assert_int_eq(model_set_list(a, "inherits", inh_a, 1), 0);
	test_end(a);
	test_finish(a);

	test_table(b, "public", "t");
	test_begin(b, MODEL_COLUMN, "public", "t", "c");
	ck_assert_int_eq(model_set_str(b, "default", "'x'::character varying"), 0);
	ck_assert_int_eq(model_set_bool(b, "not_null", false), 0);
	ck_assert_int_eq(model_set_int(b, "position", 1), 0);
	ck_assert_int_eq(model_set_str(b, "type", "text"), 0);
	test_end(b);
	test_begin(b, MODEL_TABLE, "public", NULL, "u");
	ck_assert_int_eq(model_set_list(b, "inherits", inh_b, 2), 0);
	test_end(b);
	test_finish(b);

	d = test_diff(a, b);
	ck_assert_uint_eq(d->n_changes, 4);
	ck_assert_uint_eq(d->by_type[DIFF_MODIFIED], 4);

	c = &d->changes[0];
	ck_assert_int_eq(c->type, DIFF_MODIFIED);
	ck_assert_str_eq(c->attribute, "collation");
	ck_assert_ptr_nonnull(c->old_value);
	ck_assert_str_eq(c->old_value->u.str, "pg_catalog.\"C\"");
	ck_assert_ptr_null(c->new_value);
	ck_assert_ptr_eq(c->before, &a->objects[1]);
	ck_assert_ptr_eq(c->after, &b->objects[1]);
	ck_assert_int_eq(c->severity, DIFF_WARNING);

	c = &d->changes[1];
	ck_assert_str_eq(c->attribute, "default");
	ck_assert_ptr_null(c->old_value);
	ck_assert_ptr_nonnull(c->new_value);
	ck_assert_str_eq(c->new_value->u.str, "'x'::character varying");
	ck_assert_int_eq(c->severity, DIFF_WARNING);

	c = &d->changes[2];
	ck_assert_str_eq(c->attribute, "type");
	ck_assert_str_eq(c->old_value->u.str, "character varying(20)");
	ck_assert_str_eq(c->new_value->u.str, "text");
	ck_assert_int_eq(c->severity, DIFF_WARNING);

	c = &d->changes[3];
	ck_assert_str_eq(c->attribute, "inherits");
	ck_assert_int_eq(c->old_value->type, MODEL_LIST);
	ck_assert_uint_eq(c->new_value->u.list.n, 2);

	{
		char *text = test_text(d, false), *json = test_json(d, "x", "y");

		ck_assert_str_eq(text,
				 "~ column public.t.c: collation pg_catalog.\"C\" -> (none) [warning]\n"
				 "~ column public.t.c: default (none) -> 'x'::character varying [warning]\n"
				 "~ column public.t.c: type character varying(20) -> text [warning]\n"
				 "~ table public.u: inherits public.p1 -> public.p1, public.p2 [warning]\n"
				 "4 changes: 0 breaking, 4 warning, 0 info\n");
		ck_assert_ptr_nonnull(strstr(json, "\"attribute\":\"collation\","
						   "\"before\":\"pg_catalog.\\\"C\\\"\","
						   "\"after\":null}"));
		ck_assert_ptr_nonnull(strstr(json, "\"attribute\":\"default\",\"before\":null,"
						   "\"after\":\"'x'::character varying\","
						   "\"revert_sql\":\"ALTER TABLE public.t ALTER COLUMN c "
						   "DROP DEFAULT;\\n\"}"));
		ck_assert_ptr_nonnull(strstr(json, "\"attribute\":\"inherits\","
						   "\"before\":[\"public.p1\"],"
						   "\"after\":[\"public.p1\",\"public.p2\"]}"));
		free(text);
		free(json);
	}
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

START_TEST(test_hash_trust)
{
	struct model *a = test_model(), *b = test_model();
	struct diff *d;

	test_table(a, "public", "t");
	test_column(a, "public", "t", "c", "integer", 1, false);
	test_finish(a);
	test_table(b, "public", "t");
	test_column(b, "public", "t", "c", "bigint", 1, false);
	test_finish(b);

	/* Unhashed: attributes are compared. */
	d = test_diff(a, b);
	ck_assert_uint_eq(d->n_changes, 1);
	diff_free(d);

	/* Both hashed with equal (here: forged) object hashes: trusted. */
	for (size_t i = 0; i < 2; i++) {
		memset(a->objects[i].hash, 0x11, 32);
		memset(b->objects[i].hash, 0x11, 32);
	}
	a->hashed = b->hashed = true;
	d = test_diff(a, b);
	ck_assert_uint_eq(d->n_changes, 0);
	diff_free(d);

	/* Only one side hashed: hashes are not trusted. */
	b->hashed = false;
	d = test_diff(a, b);
	ck_assert_uint_eq(d->n_changes, 1);
	diff_free(d);

	/* Real hashes differ for the column and agree for the table. */
	ck_assert_int_eq(snapshot_hash(a), 0);
	ck_assert_int_eq(snapshot_hash(b), 0);
	ck_assert(a->hashed && b->hashed);
	d = test_diff(a, b);
	ck_assert_uint_eq(d->n_changes, 1);
	ck_assert_str_eq(d->changes[0].attribute, "type");
	ck_assert_int_eq(d->changes[0].severity, DIFF_WARNING);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

/* ------------------------------------------------------------ severity */

static const struct {
	enum model_kind kind;
	enum diff_severity severity;
} test_removed_cases[] = {
	{ MODEL_SCHEMA, DIFF_BREAKING },
	{ MODEL_TABLE, DIFF_BREAKING },
	{ MODEL_VIEW, DIFF_BREAKING },
	{ MODEL_MATERIALIZED_VIEW, DIFF_BREAKING },
	{ MODEL_SEQUENCE, DIFF_BREAKING },
	{ MODEL_COLUMN, DIFF_BREAKING },
	{ MODEL_CONSTRAINT, DIFF_WARNING },
	{ MODEL_INDEX, DIFF_WARNING },
};

START_TEST(test_removed_severity)
{
	struct model *a = test_model(), *b = test_model();
	enum model_kind kind = test_removed_cases[_i].kind;
	bool child = model_kind_info(kind)->has_parent;
	struct diff *d;

	test_table(a, "public", "t");
	test_table(b, "public", "t");
	if (kind == MODEL_SCHEMA)
		test_simple(a, kind, NULL, NULL, "s");
	else
		test_simple(a, kind, "public", child ? "t" : NULL, "x");
	test_finish(a);
	test_finish(b);
	d = test_diff(a, b);
	ck_assert_uint_eq(d->n_changes, 1);
	ck_assert_int_eq(d->changes[0].type, DIFF_REMOVED);
	ck_assert_int_eq(d->changes[0].before->kind, kind);
	ck_assert_int_eq(d->changes[0].severity, test_removed_cases[_i].severity);
	ck_assert_uint_eq(d->by_severity[test_removed_cases[_i].severity], 1);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

static const struct {
	enum model_kind kind;
	bool not_null;
	const char *extra; /* default / identity / generated, or NULL */
	enum diff_severity severity;
} test_added_cases[] = {
	{ MODEL_COLUMN, true, NULL, DIFF_BREAKING },
	{ MODEL_COLUMN, true, "default", DIFF_INFO },
	{ MODEL_COLUMN, true, "identity", DIFF_INFO },
	{ MODEL_COLUMN, true, "generated", DIFF_INFO },
	{ MODEL_COLUMN, false, NULL, DIFF_INFO },
	{ MODEL_COLUMN, false, "default", DIFF_INFO },
	{ MODEL_CONSTRAINT, false, NULL, DIFF_WARNING },
	{ MODEL_INDEX, false, NULL, DIFF_INFO },
	{ MODEL_TABLE, false, NULL, DIFF_INFO },
	{ MODEL_VIEW, false, NULL, DIFF_INFO },
	{ MODEL_MATERIALIZED_VIEW, false, NULL, DIFF_INFO },
	{ MODEL_SEQUENCE, false, NULL, DIFF_INFO },
	{ MODEL_SCHEMA, false, NULL, DIFF_INFO },
};

START_TEST(test_added_severity)
{
	struct model *a = test_model(), *b = test_model();
	enum model_kind kind = test_added_cases[_i].kind;
	bool child = model_kind_info(kind)->has_parent;
	struct diff *d;

	test_table(a, "public", "t");
	test_table(b, "public", "t");
	if (kind == MODEL_SCHEMA)
		test_begin(b, kind, NULL, NULL, "s");
	else
		test_begin(b, kind, "public", child ? "t" : NULL, "x");
	if (kind == MODEL_COLUMN) {
		ck_assert_int_eq(model_set_str(b, "type", "integer"), 0);
		ck_assert_int_eq(model_set_bool(b, "not_null", test_added_cases[_i].not_null), 0);
		if (test_added_cases[_i].extra)
			ck_assert_int_eq(model_set_str(b, test_added_cases[_i].extra, "x"), 0);
	}
	test_end(b);
	test_finish(a);
	test_finish(b);
	d = test_diff(a, b);
	ck_assert_uint_eq(d->n_changes, 1);
	ck_assert_int_eq(d->changes[0].type, DIFF_ADDED);
	ck_assert_int_eq(d->changes[0].after->kind, kind);
	ck_assert_int_eq(d->changes[0].severity, test_added_cases[_i].severity);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

static const struct {
	enum model_kind kind;
	const char *attr;
	struct test_value before, after;
	enum diff_severity severity;
} test_modified_cases[] = {
	{ MODEL_COLUMN, "not_null", TV_BOOL(0), TV_BOOL(1), DIFF_BREAKING },
	{ MODEL_COLUMN, "not_null", TV_BOOL(1), TV_BOOL(0), DIFF_WARNING },
	{ MODEL_COLUMN, "not_null", TV_ABSENT, TV_BOOL(1), DIFF_BREAKING },
	{ MODEL_COLUMN, "position", TV_INT(2), TV_INT(3), DIFF_INFO },
	{ MODEL_COLUMN, "position", TV_INT(3), TV_INT(1), DIFF_INFO },
	{ MODEL_COLUMN, "default", TV_STR("0"), TV_STR("1"), DIFF_WARNING },
	{ MODEL_COLUMN, "default", TV_ABSENT, TV_STR("1"), DIFF_WARNING },
	{ MODEL_COLUMN, "identity", TV_STR("always"), TV_STR("by default"), DIFF_WARNING },
	{ MODEL_COLUMN, "collation", TV_STR("pg_catalog.\"C\""), TV_ABSENT, DIFF_WARNING },
	{ MODEL_COLUMN, "type", TV_ABSENT, TV_STR("integer"), DIFF_BREAKING },
	{ MODEL_COLUMN, "type", TV_STR("integer"), TV_ABSENT, DIFF_BREAKING },
	{ MODEL_COLUMN, "type", TV_STR("integer"), TV_STR("bigint"), DIFF_WARNING },
	{ MODEL_COLUMN, "type", TV_STR("bigint"), TV_STR("integer"), DIFF_BREAKING },
	{ MODEL_INDEX, "valid", TV_BOOL(1), TV_BOOL(0), DIFF_WARNING },
	{ MODEL_INDEX, "valid", TV_BOOL(0), TV_BOOL(1), DIFF_WARNING },
	{ MODEL_INDEX, "definition", TV_STR("CREATE INDEX x ON public.t USING btree (a)"),
	  TV_STR("CREATE INDEX x ON public.t USING btree (b)"), DIFF_WARNING },
	{ MODEL_INDEX, "type", TV_STR("bigint"), TV_STR("integer"), DIFF_WARNING },
	{ MODEL_CONSTRAINT, "validated", TV_BOOL(0), TV_BOOL(1), DIFF_INFO },
	{ MODEL_CONSTRAINT, "validated", TV_BOOL(1), TV_BOOL(0), DIFF_WARNING },
	{ MODEL_CONSTRAINT, "definition", TV_STR("CHECK ((a > 0))"), TV_STR("CHECK ((a > 1))"),
	  DIFF_WARNING },
	{ MODEL_CONSTRAINT, "not_null", TV_BOOL(0), TV_BOOL(1), DIFF_WARNING },
	{ MODEL_TABLE, "unlogged", TV_BOOL(0), TV_BOOL(1), DIFF_WARNING },
	{ MODEL_TABLE, "position", TV_INT(1), TV_INT(2), DIFF_WARNING },
	{ MODEL_VIEW, "definition", TV_STR(" SELECT 1;"), TV_STR(" SELECT 2;"), DIFF_WARNING },
	{ MODEL_SEQUENCE, "max", TV_INT(100), TV_INT(1000), DIFF_WARNING },
	{ MODEL_SEQUENCE, "cycle", TV_BOOL(0), TV_BOOL(1), DIFF_WARNING },
};

START_TEST(test_modified_severity_rules)
{
	enum diff_severity sev =
		test_modified_severity(test_modified_cases[_i].kind, test_modified_cases[_i].attr,
				       test_modified_cases[_i].before, test_modified_cases[_i].after);

	ck_assert_msg(sev == test_modified_cases[_i].severity, "case %d (%s): got %s, want %s", _i,
		      test_modified_cases[_i].attr, diff_severity_name(sev),
		      diff_severity_name(test_modified_cases[_i].severity));
}
END_TEST

#define W DIFF_WARNING
#define B DIFF_BREAKING

static const struct {
	const char *before, *after;
	enum diff_severity severity;
} test_type_cases[] = {
	/* character varying / text */
	{ "character varying(20)", "character varying(30)", W },
	{ "character varying(30)", "character varying(20)", B },
	{ "character varying(20)", "character varying", W },
	{ "character varying(20)", "text", W },
	{ "character varying", "text", W },
	{ "text", "character varying", W },
	{ "character varying", "character varying(20)", B },
	{ "text", "character varying(100)", B },
	/* character(n) */
	{ "character(5)", "character(10)", W },
	{ "character(10)", "character(5)", B },
	{ "character(5)", "bpchar", W },
	{ "bpchar", "character(5)", B },
	{ "character(5)", "character varying(10)", B },
	{ "character(5)", "text", B },
	/* bit varying */
	{ "bit varying(5)", "bit varying(8)", W },
	{ "bit varying(8)", "bit varying(5)", B },
	{ "bit varying(8)", "bit varying", W },
	{ "bit(5)", "bit(8)", B },
	/* numeric */
	{ "numeric(10,2)", "numeric(12,2)", W },
	{ "numeric(10,2)", "numeric(12,4)", W },
	{ "numeric(10,2)", "numeric(11,3)", W },
	{ "numeric(10,2)", "numeric(10,4)", B },
	{ "numeric(10,2)", "numeric(9,1)", B },
	{ "numeric(10,2)", "numeric(11,1)", B },
	{ "numeric(12,2)", "numeric(10,2)", B },
	{ "numeric(10,2)", "numeric", W },
	{ "numeric", "numeric(10,2)", B },
	{ "numeric(5)", "numeric(6)", W },
	{ "numeric(5,0)", "numeric(7,2)", W },
	{ "numeric(5,-2)", "numeric(7,-2)", W },
	{ "numeric(5,-2)", "numeric(5,0)", B },
	/* integers and floats */
	{ "smallint", "integer", W },
	{ "integer", "bigint", W },
	{ "smallint", "bigint", W },
	{ "bigint", "integer", B },
	{ "integer", "smallint", B },
	{ "bigint", "smallint", B },
	{ "real", "double precision", W },
	{ "double precision", "real", B },
	{ "integer", "real", B },
	{ "integer", "numeric", B },
	{ "integer", "text", B },
	{ "text", "integer", B },
	/* timestamps, times, intervals */
	{ "timestamp(3) without time zone", "timestamp(6) without time zone", W },
	{ "timestamp(3) without time zone", "timestamp without time zone", W },
	{ "timestamp(0) without time zone", "timestamp(1) without time zone", W },
	{ "timestamp(6) without time zone", "timestamp without time zone", W },
	{ "timestamp without time zone", "timestamp(3) without time zone", B },
	{ "timestamp(6) without time zone", "timestamp(5) without time zone", B },
	{ "timestamp without time zone", "timestamp with time zone", B },
	{ "timestamp with time zone", "timestamp without time zone", B },
	{ "timestamp(2) with time zone", "timestamp with time zone", W },
	{ "timestamp with time zone", "timestamp(0) with time zone", B },
	{ "time(2) without time zone", "time(4) without time zone", W },
	{ "time(4) without time zone", "time(2) without time zone", B },
	{ "time(3) with time zone", "time with time zone", W },
	{ "time with time zone", "time(3) with time zone", B },
	{ "time without time zone", "time with time zone", B },
	{ "time without time zone", "timestamp without time zone", B },
	{ "interval(3)", "interval", W },
	{ "interval", "interval(3)", B },
	{ "date", "timestamp without time zone", B },
	/* arrays */
	{ "integer[]", "bigint[]", W },
	{ "bigint[]", "integer[]", B },
	{ "character varying(10)[]", "character varying(20)[]", W },
	{ "character varying(10)[]", "text[]", W },
	{ "timestamp(3) without time zone[]", "timestamp without time zone[]", W },
	{ "integer[]", "integer", B },
	{ "integer", "integer[]", B },
	{ "integer[][]", "bigint[]", B },
	{ "integer[][]", "bigint[][]", W },
	/* unrecognised */
	{ "public.mood", "public.mood2", B },
	{ "\"char\"", "text", B },
	{ "numeric(10,2", "numeric", B },
	{ "numeric(a)", "numeric", B },
	{ "character varying(10,2)", "text", B },
	{ "integer(4)", "bigint", B },
	{ "", "integer", B },
	{ "character varying(20)", "", B },
	{ "interval day to second(3)", "interval", B },
};

#undef W
#undef B

START_TEST(test_type_widening)
{
	enum diff_severity sev = test_modified_severity(MODEL_COLUMN, "type",
							(struct test_value)TV_STR(test_type_cases[_i].before),
							(struct test_value)TV_STR(test_type_cases[_i].after));

	ck_assert_msg(sev == test_type_cases[_i].severity, "%s -> %s: got %s, want %s",
		      test_type_cases[_i].before, test_type_cases[_i].after,
		      diff_severity_name(sev), diff_severity_name(test_type_cases[_i].severity));
}
END_TEST

/* -------------------------------------------------------------- output */

static void test_spec_models(struct model **ret_a, struct model **ret_b)
{
	struct model *a = test_model(), *b = test_model();

	test_schema(a, "public");
	test_table(a, "public", "legacy");
	test_table(a, "public", "orders");
	test_column(a, "public", "orders", "total", "numeric(10,2)", 1, false);
	test_finish(a);
	test_schema(b, "public");
	test_table(b, "public", "orders");
	test_column(b, "public", "orders", "total", "numeric(12,2)", 1, false);
	test_begin(b, MODEL_INDEX, "public", "orders", "orders_created_idx");
	ck_assert_int_eq(model_set_bool(b, "valid", true), 0);
	test_end(b);
	test_finish(b);
	*ret_a = a;
	*ret_b = b;
}

START_TEST(test_text_spec_example)
{
	struct model *a, *b;
	struct diff *d;
	char *text;

	test_spec_models(&a, &b);
	d = test_diff(a, b);
	text = test_text(d, false);
	ck_assert_str_eq(text, "- table public.legacy [breaking]\n"
			       "~ column public.orders.total: type numeric(10,2) -> numeric(12,2) [warning]\n"
			       "+ index public.orders_created_idx [info]\n"
			       "3 changes: 1 breaking, 1 warning, 1 info\n");
	ck_assert_ptr_null(strchr(text, '\033'));
	free(text);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

START_TEST(test_text_color)
{
	struct model *a, *b;
	struct diff *d;
	char *text;

	test_spec_models(&a, &b);
	d = test_diff(a, b);
	text = test_text(d, true);
	ck_assert_str_eq(text,
			 "\033[31m- table public.legacy\033[0m \033[31m[breaking]\033[0m\n"
			 "\033[33m~ column public.orders.total: type numeric(10,2) -> numeric(12,2)"
			 "\033[0m \033[33m[warning]\033[0m\n"
			 "\033[32m+ index public.orders_created_idx\033[0m [info]\n"
			 "3 changes: 1 breaking, 1 warning, 1 info\n");
	free(text);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

START_TEST(test_json_spec_example)
{
	struct model *a, *b;
	struct diff *d;
	char *json;

	test_spec_models(&a, &b);
	d = test_diff(a, b);
	json = test_json(d, "before.json", "postgresql://h/db");
	ck_assert_str_eq(json,
			 "{\"schemadrift_diff\":{\"version\":1,"
			 "\"from\":{\"source\":\"before.json\",\"hash\":null},"
			 "\"to\":{\"source\":\"postgresql://h/db\",\"hash\":null}},"
			 "\"summary\":{\"changes\":3,\"added\":1,\"removed\":1,\"modified\":1,\"renamed\":0,"
			 "\"breaking\":1,\"warning\":1,\"info\":1},"
			 "\"changes\":["
			 "{\"change\":\"removed\",\"severity\":\"breaking\",\"kind\":\"table\","
			 "\"schema\":\"public\",\"name\":\"legacy\",\"object\":\"public.legacy\","
			 "\"definition\":\"CREATE TABLE public.legacy ();\\n\"},"
			 "{\"change\":\"modified\",\"severity\":\"warning\",\"kind\":\"column\","
			 "\"schema\":\"public\",\"parent\":\"orders\",\"name\":\"total\","
			 "\"object\":\"public.orders.total\",\"attribute\":\"type\","
			 "\"before\":\"numeric(10,2)\",\"after\":\"numeric(12,2)\","
			 "\"revert_sql\":\"ALTER TABLE public.orders ALTER COLUMN total TYPE "
			 "numeric(10,2);\\n\"},"
			 "{\"change\":\"added\",\"severity\":\"info\",\"kind\":\"index\","
			 "\"schema\":\"public\",\"parent\":\"orders\",\"name\":\"orders_created_idx\","
			 "\"object\":\"public.orders_created_idx\","
			 "\"revert_sql\":\"DROP INDEX CONCURRENTLY public.orders_created_idx;\\n\"}]}");
	free(json);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

START_TEST(test_json_hashes_and_values)
{
	struct model *a = test_model(), *b = test_model();
	struct diff *d;
	json_t *j, *c;
	char ha[65], hb[65];

	test_schema(a, "app");
	test_begin(a, MODEL_SEQUENCE, "app", NULL, "s");
	ck_assert_int_eq(model_set_bool(a, "cycle", false), 0);
	ck_assert_int_eq(model_set_int(a, "max", 100), 0);
	test_end(a);
	test_finish(a);
	test_begin(b, MODEL_SEQUENCE, "app", NULL, "s");
	ck_assert_int_eq(model_set_bool(b, "cycle", true), 0);
	ck_assert_int_eq(model_set_int(b, "max", 9223372036854775807LL), 0);
	test_end(b);
	test_finish(b);
	ck_assert_int_eq(snapshot_hash(a), 0);
	ck_assert_int_eq(snapshot_hash(b), 0);
	snapshot_hash_hex(a->hash, ha);
	snapshot_hash_hex(b->hash, hb);

	d = test_diff(a, b);
	j = diff_to_json(d, "a.json", NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(json_object_get(j, "schemadrift_diff"), "from"),
				 "hash")),
			 ha);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(json_object_get(j, "schemadrift_diff"), "to"),
				 "hash")),
			 hb);
	ck_assert_uint_eq(strlen(ha), 64);
	ck_assert(json_is_null(json_object_get(
		json_object_get(json_object_get(j, "schemadrift_diff"), "to"), "source")));
	ck_assert_uint_eq(json_array_size(json_object_get(j, "changes")), 3);

	/* Schema removed: no "schema" or "parent" key, name is the schema's name. */
	c = json_array_get(json_object_get(j, "changes"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(c, "kind")), "schema");
	ck_assert_ptr_null(json_object_get(c, "schema"));
	ck_assert_ptr_null(json_object_get(c, "parent"));
	ck_assert_ptr_null(json_object_get(c, "attribute"));
	ck_assert_ptr_null(json_object_get(c, "before"));
	ck_assert_str_eq(json_string_value(json_object_get(c, "name")), "app");
	ck_assert_str_eq(json_string_value(json_object_get(c, "object")), "app");

	c = json_array_get(json_object_get(j, "changes"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(c, "attribute")), "cycle");
	ck_assert(json_is_false(json_object_get(c, "before")));
	ck_assert(json_is_true(json_object_get(c, "after")));
	ck_assert_ptr_null(json_object_get(c, "parent"));
	c = json_array_get(json_object_get(j, "changes"), 2);
	ck_assert_str_eq(json_string_value(json_object_get(c, "attribute")), "max");
	ck_assert_int_eq(json_integer_value(json_object_get(c, "before")), 100);
	ck_assert(json_integer_value(json_object_get(c, "after")) == 9223372036854775807LL);
	json_decref(j);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

static struct model *test_view_model(const char *definition)
{
	struct model *m = test_model();

	test_begin(m, MODEL_VIEW, "public", NULL, "v");
	if (definition)
		ck_assert_int_eq(model_set_str(m, "definition", definition), 0);
	test_end(m);
	test_finish(m);
	return m;
}

static char *test_view_text(const char *before, const char *after)
{
	struct model *a = test_view_model(before), *b = test_view_model(after);
	struct diff *d = test_diff(a, b);
	char *text;

	ck_assert_uint_eq(d->n_changes, 1);
	text = test_text(d, false);
	diff_free(d);
	model_free(a);
	model_free(b);
	return text;
}

START_TEST(test_text_multiline)
{
	char *text;

	text = test_view_text(" SELECT a,\n    b\n   FROM t;", " SELECT a,\n    c\n   FROM t;");
	ck_assert_str_eq(text, "~ view public.v: definition changed [warning]\n"
			       "    -     b\n"
			       "    +     c\n"
			       "1 change: 0 breaking, 1 warning, 0 info\n");
	free(text);

	/* Interleaved: common lines are skipped, removals before additions. */
	text = test_view_text("A\nB\nC\nD", "A\nX\nC\nD\nE");
	ck_assert_str_eq(text, "~ view public.v: definition changed [warning]\n"
			       "    - B\n"
			       "    + X\n"
			       "    + E\n"
			       "1 change: 0 breaking, 1 warning, 0 info\n");
	free(text);

	text = test_view_text("A\nB\nC\nD\nE", "A\nC\nE");
	ck_assert_str_eq(text, "~ view public.v: definition changed [warning]\n"
			       "    - B\n"
			       "    - D\n"
			       "1 change: 0 breaking, 1 warning, 0 info\n");
	free(text);

	/* Absent on one side: all lines of the other. */
	text = test_view_text(NULL, " SELECT 1\n   FROM t;");
	ck_assert_str_eq(text, "~ view public.v: definition changed [warning]\n"
			       "    +  SELECT 1\n"
			       "    +    FROM t;\n"
			       "1 change: 0 breaking, 1 warning, 0 info\n");
	free(text);

	/* Single-line values with " -> " would be ambiguous: block form too. */
	text = test_view_text(" SELECT (j -> 'a'::text);", " SELECT (j -> 'b'::text);");
	ck_assert_str_eq(text, "~ view public.v: definition changed [warning]\n"
			       "    -  SELECT (j -> 'a'::text);\n"
			       "    +  SELECT (j -> 'b'::text);\n"
			       "1 change: 0 breaking, 1 warning, 0 info\n");
	free(text);

	/* " -> " on one side only is enough. */
	text = test_view_text(" SELECT (j -> 'a'::text);", " SELECT j;");
	ck_assert_str_eq(text, "~ view public.v: definition changed [warning]\n"
			       "    -  SELECT (j -> 'a'::text);\n"
			       "    +  SELECT j;\n"
			       "1 change: 0 breaking, 1 warning, 0 info\n");
	free(text);
	text = test_view_text(" SELECT 1;", " SELECT j -> 'a';");
	ck_assert_str_eq(text, "~ view public.v: definition changed [warning]\n"
			       "    -  SELECT 1;\n"
			       "    +  SELECT j -> 'a';\n"
			       "1 change: 0 breaking, 1 warning, 0 info\n");
	free(text);

	/* Control characters never break a line; tabs stay in block lines. */
	text = test_view_text("a\tb\rc\nx", "a\tb\rc\ny");
	ck_assert_str_eq(text, "~ view public.v: definition changed [warning]\n"
			       "    - x\n"
			       "    + y\n"
			       "1 change: 0 breaking, 1 warning, 0 info\n");
	free(text);
	text = test_view_text("a\tb\x01\nx", "a\tb\x02\nx");
	ck_assert_str_eq(text, "~ view public.v: definition changed [warning]\n"
			       "    - a\tb\\x01\n"
			       "    + a\tb\\x02\n"
			       "1 change: 0 breaking, 1 warning, 0 info\n");
	free(text);
	text = test_view_text("a\tb", "a b");
	ck_assert_str_eq(text, "~ view public.v: definition a\\x09b -> a b [warning]\n"
			       "1 change: 0 breaking, 1 warning, 0 info\n");
	free(text);
}
END_TEST

/* n lines "<prefix><i>", i from first, joined by '\n'; malloc'd. */
static char *test_lines(const char *first_line, int first, int n)
{
	size_t cap = (size_t)n * 16 + 64, len = 0;
	char *s = malloc(cap);

	ck_assert_ptr_nonnull(s);
	s[0] = '\0';
	if (first_line)
		len += (size_t)snprintf(s + len, cap - len, "%s\n", first_line);
	for (int i = first; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%sline %d", i > first ? "\n" : "", i);
	ck_assert_uint_lt(len, cap);
	return s;
}

static size_t test_count(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

START_TEST(test_text_multiline_large)
{
	char *a, *b, *text;

	/* 3000 lines differing in the first only: the common suffix is trimmed. */
	a = test_lines(NULL, 0, 3000);
	b = test_lines("changed", 1, 3000);
	text = test_view_text(a, b);
	ck_assert_str_eq(text, "~ view public.v: definition changed [warning]\n"
			       "    - line 0\n"
			       "    + changed\n"
			       "1 change: 0 breaking, 1 warning, 0 info\n");
	free(text);
	free(a);
	free(b);

	/* Too large for the LCS table and nothing in common: every line, old first. */
	a = test_lines(NULL, 0, 2500);
	b = test_lines(NULL, 2500, 5000);
	text = test_view_text(a, b);
	ck_assert_uint_eq(test_count(text, "\n    - line "), 2500);
	ck_assert_uint_eq(test_count(text, "\n    + line "), 2500);
	ck_assert_ptr_nonnull(strstr(text, "    - line 2499\n    + line 2500\n"));
	ck_assert_ptr_nonnull(strstr(text, "    + line 4999\n1 change:"));
	free(text);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_text_multiline_color)
{
	struct model *a = test_view_model("x\ny"), *b = test_view_model("x\nz");
	struct diff *d = test_diff(a, b);
	char *text = test_text(d, true);

	ck_assert_str_eq(text, "\033[33m~ view public.v: definition changed\033[0m "
			       "\033[33m[warning]\033[0m\n"
			       "\033[31m    - y\033[0m\n"
			       "\033[32m    + z\033[0m\n"
			       "1 change: 0 breaking, 1 warning, 0 info\n");
	free(text);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

/* Every line ends in '\n' and holds no control character; returns the line count. */
static size_t test_count_clean_lines(const char *text)
{
	size_t lines = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '\n')
			lines++;
		else
			ck_assert_msg(*p >= 0x20 && *p != 0x7f, "control byte 0x%02x in output", *p);
	}
	ck_assert(text[0] == '\0' || text[strlen(text) - 1] == '\n');
	return lines;
}

START_TEST(test_hostile_names)
{
	struct model *a = test_model(), *b = test_model();
	struct diff *d;
	char *text, *json;

	test_schema(b, "we\"ird");
	test_table(b, "we\"ird", "a\nb");
	test_table(b, "public", "with space");
	test_column(b, "public", "with space", "col\r\n", "integer", 1, false);
	test_table(b, "public", "\xff\xfe");
	test_simple(b, MODEL_SEQUENCE, "s\xc0", NULL, "q");
	test_begin(a, MODEL_TABLE, "public", NULL, "t");
	ck_assert_int_eq(model_set_str(a, "partition_bound", "FOR VALUES IN ('\xe9t\xe9')"), 0);
	test_end(a);
	test_column(a, "public", "t", "Mixed Case", "integer", 1, false);
	test_begin(b, MODEL_TABLE, "public", NULL, "t");
	ck_assert_int_eq(model_set_str(b, "partition_bound", "FOR VALUES IN ('ete')"), 0);
	test_end(b);
	test_column(b, "public", "t", "Mixed Case", "integer", 1, false);
	test_column(b, "public", "t", "new\ncol", "integer", 2, false);
	test_finish(a);
	test_finish(b);

	d = test_diff(a, b);
	ck_assert_uint_eq(d->n_changes, 7);
	text = test_text(d, false);
	ck_assert_uint_eq(test_count_clean_lines(text), 8);
	ck_assert_ptr_nonnull(strstr(text, "\n+ sequence \"s\\xc0\".q [info]\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n+ table public.\"with space\" [info]\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n+ table public.\"\\xff\\xfe\" [info]\n"));
	ck_assert_ptr_nonnull(strstr(text, "~ table public.t: partition_bound "
					   "FOR VALUES IN ('\\xe9t\\xe9') -> "
					   "FOR VALUES IN ('ete') [warning]\n"));
	ck_assert_ptr_nonnull(strstr(text, "+ schema \"we\"\"ird\" [info]\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n+ table \"we\"\"ird\".\"a"));
	ck_assert_ptr_nonnull(strstr(text, "\n+ column public.t.\"new"));
	ck_assert_ptr_null(strstr(text, "Mixed Case"));
	/* Children of the added table "with space" are suppressed. */
	ck_assert_ptr_null(strstr(text, "col\\x0d"));
	ck_assert_ptr_null(strstr(text, "+ column public.\"with space\""));
	ck_assert_str_eq(text + strlen(text) - strlen("7 changes: 0 breaking, 1 warning, 6 info\n"),
			 "7 changes: 0 breaking, 1 warning, 6 info\n");

	json = test_json(d, "a\xff", "b");
	/* Names: JSON strings (escaped), or {"hex"} for invalid UTF-8. */
	ck_assert_ptr_nonnull(strstr(json, "\"from\":{\"source\":{\"hex\":\"61ff\"},"));
	ck_assert_ptr_nonnull(strstr(json, "{\"change\":\"added\",\"severity\":\"info\","
					   "\"kind\":\"schema\",\"name\":\"we\\\"ird\","
					   "\"object\":\"\\\"we\\\"\\\"ird\\\"\","
					   "\"definition\":\"CREATE SCHEMA \\\"we\\\"\\\"ird\\\";\\n\"}"));
	ck_assert_ptr_nonnull(strstr(json, "\"kind\":\"table\",\"schema\":\"we\\\"ird\","
					   "\"name\":\"a\\nb\",\"object\":\"\\\"we\\\"\\\"ird\\\".\\\"a"));
	ck_assert_ptr_nonnull(strstr(json, "\"kind\":\"table\",\"schema\":\"public\","
					   "\"name\":{\"hex\":\"fffe\"},"
					   "\"object\":\"public.\\\"\\\\xff\\\\xfe\\\"\"}"));
	ck_assert_ptr_nonnull(strstr(json, "\"attribute\":\"partition_bound\","
					   "\"before\":{\"hex\":\"464f522056414c55455320494e2028"
					   "27e974e92729\"},"
					   "\"after\":\"FOR VALUES IN ('ete')\"}"));
	ck_assert_ptr_nonnull(strstr(json, "\"kind\":\"sequence\",\"schema\":{\"hex\":\"73c0\"},"
					   "\"name\":\"q\",\"object\":\"\\\"s\\\\xc0\\\".q\"}"));
	ck_assert_ptr_nonnull(strstr(json, "\"kind\":\"column\",\"schema\":\"public\","
					   "\"parent\":\"t\",\"name\":\"new\\ncol\""));
	{
		json_error_t err;
		json_t *back = json_loads(json, 0, &err);

		ck_assert_msg(back != NULL, "output is not JSON: %s", err.text);
		ck_assert_int_eq(json_integer_value(json_object_get(
					 json_object_get(back, "summary"), "changes")),
				 7);
		json_decref(back);
	}
	free(text);
	free(json);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

START_TEST(test_hostile_list_values)
{
	struct model *a = test_model(), *b = test_model();
	const char *const before[] = { "public.p\xc3", "public.q" };
	const char *const after[] = { "public.p" };
	struct diff *d;
	char *text, *json;

	test_begin(a, MODEL_TABLE, "public", NULL, "t");
	ck_assert_int_eq(model_set_list(a, "inherits", before, 2), 0);
	test_end(a);
	test_finish(a);
	test_begin(b, MODEL_TABLE, "public", NULL, "t");
	ck_assert_int_eq(model_set_list(b, "inherits", after, 1), 0);
	test_end(b);
	test_finish(b);
	d = test_diff(a, b);
	text = test_text(d, false);
	ck_assert_str_eq(text, "~ table public.t: inherits public.p\\xc3, public.q -> public.p "
			       "[warning]\n"
			       "1 change: 0 breaking, 1 warning, 0 info\n");
	json = test_json(d, "a", "b");
	ck_assert_ptr_nonnull(strstr(json, "\"before\":[{\"hex\":\"7075626c69632e70c3\"},"
					   "\"public.q\"],\"after\":[\"public.p\"]}"));
	free(text);
	free(json);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

START_TEST(test_write_error)
{
	struct model *a, *b;
	struct diff *d;
	FILE *f;

	test_spec_models(&a, &b);
	d = test_diff(a, b);
	f = fopen("/dev/full", "w");
	if (f) {
		ck_assert_int_eq(diff_write_text(d, f, 0, NULL), -EIO);
		fclose(f);
	}
	ck_assert_int_eq(diff_write_text(NULL, stdout, 0, NULL), -EINVAL);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

/* ---------------------------------------------------------------- main */

#define TEST_N(a) ((int)(sizeof(a) / sizeof((a)[0])))

START_TEST(test_renames_when_certain)
{
	struct model *a = test_model(), *b = test_model();
	struct diff *d;
	char *text;

	test_schema(a, "public");
	test_table(a, "public", "old");
	test_column(a, "public", "old", "id", "integer", 1, true);
	test_column(a, "public", "old", "note", "text", 2, false);
	test_table(a, "public", "t");
	test_column(a, "public", "t", "x", "integer", 1, false);
	test_column(a, "public", "t", "y", "integer", 2, false);
	test_finish(a);
	test_schema(b, "public");
	test_table(b, "public", "new");
	test_column(b, "public", "new", "id", "integer", 1, true);
	test_column(b, "public", "new", "note", "text", 2, false);
	test_table(b, "public", "t");
	test_column(b, "public", "t", "x2", "integer", 1, false);
	test_column(b, "public", "t", "y", "integer", 2, false);
	test_finish(b);

	d = test_diff(a, b);
	text = test_text(d, false);
	ck_assert_str_eq(text, "> table public.old renamed to public.new [breaking]\n"
			       "> column public.t.x renamed to public.t.x2 [breaking]\n"
			       "2 changes: 2 breaking, 0 warning, 0 info\n");
	ck_assert_uint_eq(d->by_type[DIFF_RENAMED], 2);
	ck_assert_uint_eq(d->by_type[DIFF_ADDED], 0);
	ck_assert_uint_eq(d->by_type[DIFF_REMOVED], 0);
	free(text);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

START_TEST(test_rename_never_guessed)
{
	struct model *a = test_model(), *b = test_model();
	struct diff *d;

	/* Two identical candidates on each side: which went where is a guess. */
	test_schema(a, "public");
	test_table(a, "public", "t");
	test_column(a, "public", "t", "a", "integer", 1, false);
	test_column(a, "public", "t", "b", "integer", 1, false);
	test_finish(a);
	test_schema(b, "public");
	test_table(b, "public", "t");
	test_column(b, "public", "t", "c", "integer", 1, false);
	test_column(b, "public", "t", "d", "integer", 1, false);
	test_finish(b);

	d = test_diff(a, b);
	ck_assert_uint_eq(d->by_type[DIFF_RENAMED], 0);
	ck_assert_uint_eq(d->by_type[DIFF_REMOVED], 2);
	ck_assert_uint_eq(d->by_type[DIFF_ADDED], 2);
	diff_free(d);
	model_free(a);
	model_free(b);
}
END_TEST

static Suite *test_diff_suite(void)
{
	Suite *s = suite_create("diff");
	TCase *core = tcase_create("core"), *sev = tcase_create("severity"),
	      *out = tcase_create("output");

	tcase_add_test(core, test_names);
	tcase_add_test(core, test_invalid_args);
	tcase_add_test(core, test_identical);
	tcase_add_test(core, test_empty_models);
	tcase_add_test(core, test_added_removed);
	tcase_add_test(core, test_renames_when_certain);
	tcase_add_test(core, test_rename_never_guessed);
	tcase_add_test(core, test_child_suppression);
	tcase_add_test(core, test_attribute_level);
	tcase_add_test(core, test_hash_trust);
	suite_add_tcase(s, core);

	tcase_add_loop_test(sev, test_removed_severity, 0, TEST_N(test_removed_cases));
	tcase_add_loop_test(sev, test_added_severity, 0, TEST_N(test_added_cases));
	tcase_add_loop_test(sev, test_modified_severity_rules, 0, TEST_N(test_modified_cases));
	tcase_add_loop_test(sev, test_type_widening, 0, TEST_N(test_type_cases));
	suite_add_tcase(s, sev);

	tcase_add_test(out, test_text_spec_example);
	tcase_add_test(out, test_text_color);
	tcase_add_test(out, test_json_spec_example);
	tcase_add_test(out, test_json_hashes_and_values);
	tcase_add_test(out, test_text_multiline);
	tcase_add_test(out, test_text_multiline_large);
	tcase_add_test(out, test_text_multiline_color);
	tcase_add_test(out, test_hostile_names);
	tcase_add_test(out, test_hostile_list_values);
	tcase_add_test(out, test_write_error);
	suite_add_tcase(s, out);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(test_diff_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
