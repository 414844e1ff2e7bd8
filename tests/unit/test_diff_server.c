/* Unit tests for lib/diff_server.c: majors, ALL across 17's MAINTAIN, rendered-alike text. */
#include <check.h>
#include <stdlib.h>

#include "diff.h"
#include "diff_server.h"
#include "model.h"

/* A model with one object of kind: name "t", attribute attr = the given list or string. */
static struct model *one(const char *version, enum model_kind kind, const char *attr,
			 const char *const *items, size_t n, const char *str)
{
	struct model *m = NULL;

	ck_assert_int_eq(model_new(&m), 0);
	m->server_version = version ? model_strdup(m, version) : NULL;
	ck_assert_int_eq(model_begin(m, kind, "public", NULL, "t", NULL), 0);
	if (str)
		ck_assert_int_eq(model_set_str(m, attr, str), 0);
	else
		ck_assert_int_eq(model_set_list(m, attr, items, n), 0);
	ck_assert_int_eq(model_end(m), 0);
	ck_assert_int_eq(model_finish(m), 0);
	return m;
}

/* The diff of two one-object models: changes and renderings counted. */
static void check_diff(struct model *a, struct model *b, size_t changes, size_t rendering)
{
	struct diff *d = NULL;

	ck_assert_int_eq(diff_models(a, b, &d), 0);
	ck_assert_uint_eq(d->n_changes, changes);
	ck_assert_uint_eq(d->n_rendering, rendering);
	for (size_t i = 0; i < d->n_rendering; i++)
		ck_assert(d->rendering[i].server_rendering);
	diff_free(d);
	model_free(a);
	model_free(b);
}

START_TEST(test_major)
{
	ck_assert_int_eq(diff_server_major("15.4 (Debian 15.4-1.pgdg120+1)"), 15);
	ck_assert_int_eq(diff_server_major("18.0"), 18);
	ck_assert_int_eq(diff_server_major("18beta1"), 18);
	ck_assert_int_eq(diff_server_major(NULL), 0);
	ck_assert_int_eq(diff_server_major("x"), 0);
}
END_TEST

START_TEST(test_acl_all_across_17)
{
	static const char *const acl16[] = { "bob=arwdDxt*/alice", "\"a=b\"=arwdDxt/alice" };
	static const char *const acl18[] = { "\"a=b\"=arwdDxtm/alice", "bob=a*r*w*d*D*x*t*m*/alice" };
	static const char *const star16[] = { "bob=a*r*w*d*D*x*t*/alice", "\"a=b\"=arwdDxt/alice" };

	/* ALL, with grant option too, is the same on both sides of 17. */
	check_diff(one("16.1", MODEL_TABLE, "acl", star16, 2, NULL),
		   one("18.0", MODEL_TABLE, "acl", acl18, 2, NULL), 0, 0);
	/* ALL with a grant option on some privileges only is not ALL. */
	check_diff(one("16.1", MODEL_TABLE, "acl", acl16, 2, NULL),
		   one("18.0", MODEL_TABLE, "acl", acl18, 2, NULL), 1, 0);
	/* Within one side of 17, MAINTAIN counts. */
	check_diff(one("17.0", MODEL_TABLE, "acl", star16, 2, NULL),
		   one("18.0", MODEL_TABLE, "acl", acl18, 2, NULL), 1, 0);
	/* Only relations have MAINTAIN. */
	check_diff(one("16.1", MODEL_SEQUENCE, "acl", star16, 2, NULL),
		   one("18.0", MODEL_SEQUENCE, "acl", acl18, 2, NULL), 1, 0);
}
END_TEST

START_TEST(test_maintain_alone_is_drift)
{
	static const char *const owner16[] = { "alice=arwdDxt/alice" };
	static const char *const owner18[] = { "alice=arwdDxtm/alice", "bob=m/alice" };
	static const char *const revoked18[] = { "alice=arwdDxt/alice" };

	check_diff(one("15.4", MODEL_TABLE, "acl", owner16, 1, NULL),
		   one("18.0", MODEL_TABLE, "acl", owner18, 2, NULL), 1, 0);
	/* The owner without MAINTAIN on 18 is not the owner's default of 15. */
	check_diff(one("15.4", MODEL_TABLE, "acl", owner16, 1, NULL),
		   one("18.0", MODEL_TABLE, "acl", revoked18, 1, NULL), 1, 0);
}
END_TEST

START_TEST(test_rendering)
{
	const char *v15 = " SELECT o.id,\n    o.total\n   FROM cov.orders o\n  WHERE (o.note = 'a.b  c');";
	const char *v18 = " SELECT id,\n    total\n   FROM cov.orders o\n  WHERE (note = 'a.b  c');";
	const char *more = " SELECT id,\n    total,\n    at\n   FROM cov.orders o\n  WHERE (note = 'a.b  c');";
	const char *literal = " SELECT id,\n    total\n   FROM cov.orders o\n  WHERE (note = 'a.b c');";

	/* Two majors, the same definition rendered twice: set apart. */
	check_diff(one("15.4", MODEL_VIEW, "definition", NULL, 0, v15),
		   one("18.0", MODEL_VIEW, "definition", NULL, 0, v18), 0, 1);
	/* The same two texts from one major: drift. */
	check_diff(one("18.0", MODEL_VIEW, "definition", NULL, 0, v15),
		   one("18.1", MODEL_VIEW, "definition", NULL, 0, v18), 1, 0);
	/* Another column, or another literal, is a change whatever the majors. */
	check_diff(one("15.4", MODEL_VIEW, "definition", NULL, 0, v15),
		   one("18.0", MODEL_VIEW, "definition", NULL, 0, more), 1, 0);
	check_diff(one("15.4", MODEL_VIEW, "definition", NULL, 0, v15),
		   one("18.0", MODEL_VIEW, "definition", NULL, 0, literal), 1, 0);
	/* A side of unknown major is never a rendering. */
	check_diff(one(NULL, MODEL_VIEW, "definition", NULL, 0, v15),
		   one("18.0", MODEL_VIEW, "definition", NULL, 0, v18), 1, 0);
	/* Text the server keeps as written (a function's body) is never rendered. */
	check_diff(one("15.4", MODEL_FUNCTION, "body", NULL, 0, "SELECT o.id FROM t o"),
		   one("18.0", MODEL_FUNCTION, "body", NULL, 0, "SELECT id FROM t o"), 1, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("diff_server");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_major);
	tcase_add_test(tc, test_acl_all_across_17);
	tcase_add_test(tc, test_maintain_alone_is_drift);
	tcase_add_test(tc, test_rendering);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
