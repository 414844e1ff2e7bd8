/* Unit tests for lib/sql.c: quoting, privileges as GRANT/REVOKE, default privileges, what has no exact SQL. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream */
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "sql.h"

static char *ident(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	ck_assert_ptr_nonnull(f);
	r = sql_put_ident(f, s);
	fclose(f);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

START_TEST(test_quote_ident)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "orders", "orders" },
		{ "Orders", "\"Orders\"" },
		{ "a b", "\"a b\"" },
		{ "we\"ird", "\"we\"\"ird\"" },
		{ "user", "\"user\"" },            /* TO user would mean the current user */
		{ "current_user", "\"current_user\"" },
		{ "select", "\"select\"" },
		{ "1abc", "\"1abc\"" },
		{ "_ok$1", "_ok$1" },
		{ "a\nb", "U&\"a\\000Ab\"" },       /* no raw control character, still exact */
		{ "x\\\x1b[2J", "U&\"x\\\\\\001B[2J\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *q = ident(cases[i].in);

		ck_assert_ptr_nonnull(q);
		ck_assert_str_eq(q, cases[i].out);
		free(q);
	}
	/* Not UTF-8: there is no exact way to write it, so nothing is written. */
	ck_assert_ptr_null(ident("bad\xff"));
}
END_TEST

static struct model *model(void)
{
	struct model *m;

	ck_assert_int_eq(model_new(&m), 0);
	return m;
}

static void acl(struct model *m, const char *attr, const char *const *items, size_t n)
{
	ck_assert_int_eq(model_set_list(m, attr, items, n), 0);
}

/* A table s.t owned by owner, its privileges items. */
static const struct model_object *table(struct model *m, const char *owner,
					const char *const *items, size_t n)
{
	struct model_object key = { .kind = MODEL_TABLE, .schema = "s", .name = "t" };

	ck_assert_int_eq(model_begin(m, MODEL_TABLE, "s", NULL, "t", NULL), 0);
	acl(m, "acl", items, n);
	ck_assert_int_eq(model_set_str(m, "owner", owner), 0);
	ck_assert_int_eq(model_end(m), 0);
	ck_assert_int_eq(model_finish(m), 0);
	return model_find(m, &key);
}

static char *alter_acl(const struct model *m, const struct model_object *o,
		       const char *const *from, size_t nf, const char *const *to, size_t nt)
{
	struct model_value a = { .type = MODEL_LIST, .u.list = { (const char **)from, nf } };
	struct model_value b = { .type = MODEL_LIST, .u.list = { (const char **)to, nt } };
	char *sql = NULL;

	ck_assert_int_eq(sql_alter(m, o, "acl", &a, &b, &sql), 0);
	return sql;
}

START_TEST(test_grants)
{
	static const char *const before[] = { "o=arwdDxt/o", "r=r/o", "\"Odd \"\"Role\"\"\"=rw/o" };
	static const char *const after[] = { "o=arwdDxt/o", "r=r*a/o", "=r/o", "w=r*/o" };
	struct model *m = model();
	const struct model_object *t = table(m, "o", after, 4);
	char *sql = alter_acl(m, t, before, 3, after, 4);

	ck_assert_ptr_nonnull(sql);
	ck_assert_str_eq(sql,
			 "GRANT INSERT ON TABLE s.t TO r;\n"
			 "GRANT SELECT ON TABLE s.t TO r WITH GRANT OPTION;\n"
			 "REVOKE SELECT, UPDATE ON TABLE s.t FROM \"Odd \"\"Role\"\"\";\n"
			 "GRANT SELECT ON TABLE s.t TO PUBLIC;\n"
			 "GRANT SELECT ON TABLE s.t TO w WITH GRANT OPTION;\n");
	free(sql);
	/* Back again: the grant option alone is revoked where the privilege stays. */
	sql = alter_acl(m, t, after, 4, before, 3);
	ck_assert_str_eq(sql,
			 "REVOKE INSERT ON TABLE s.t FROM r;\n"
			 "REVOKE GRANT OPTION FOR SELECT ON TABLE s.t FROM r;\n"
			 "REVOKE SELECT ON TABLE s.t FROM PUBLIC;\n"
			 "REVOKE SELECT ON TABLE s.t FROM w;\n"
			 "GRANT SELECT, UPDATE ON TABLE s.t TO \"Odd \"\"Role\"\"\";\n");
	free(sql);
	model_free(m);
}
END_TEST

START_TEST(test_grants_of_another_grantor_are_not_guessed)
{
	static const char *const before[] = { "o=arwdDxt/o" };
	static const char *const after[] = { "o=arwdDxt/o", "r=r/someone" };
	struct model *m = model();
	const struct model_object *t = table(m, "o", after, 2);

	/* REVOKE run as the owner would leave someone's grant in place. */
	ck_assert_ptr_null(alter_acl(m, t, before, 1, after, 2));
	model_free(m);
}
END_TEST

static const struct model_object *adp(struct model *m, const char *schema, const char *type,
				      const char *const *items, size_t n)
{
	char name[64];
	struct model_object key = { .kind = MODEL_DEFAULT_PRIVILEGES, .schema = schema };

	snprintf(name, sizeof(name), "postgres %s", type);
	key.name = name;
	ck_assert_int_eq(model_begin(m, MODEL_DEFAULT_PRIVILEGES, schema, NULL, name, NULL), 0);
	ck_assert_int_eq(model_set_str(m, "role", "postgres"), 0);
	ck_assert_int_eq(model_set_str(m, "object_type", type), 0);
	acl(m, "acl", items, n);
	ck_assert_int_eq(model_end(m), 0);
	ck_assert_int_eq(model_finish(m), 0);
	return model_find(m, &key);
}

START_TEST(test_default_privileges)
{
	static const char *const in_schema[] = { "app_ro=r/postgres" };
	static const char *const global[] = { "postgres=X/postgres" };
	struct model *m = model();
	const struct model_object *o = adp(m, "shop", "tables", in_schema, 1);
	char *def, *drop;

	ck_assert_int_eq(sql_definition(m, o, &def), 0);
	ck_assert_str_eq(def, "ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA shop GRANT "
			      "SELECT ON TABLES TO app_ro;\n");
	ck_assert_int_eq(sql_drop(m, o, &drop), 0);
	ck_assert_str_eq(drop, "ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA shop REVOKE "
			       "SELECT ON TABLES FROM app_ro;\n");
	free(def);
	free(drop);
	model_free(m);

	/* A role's global defaults replace the built-in ones (EXECUTE for PUBLIC). */
	m = model();
	o = adp(m, NULL, "functions", global, 1);
	ck_assert_int_eq(sql_create(m, o, &def), 0);
	ck_assert_str_eq(def, "ALTER DEFAULT PRIVILEGES FOR ROLE postgres REVOKE EXECUTE ON "
			      "FUNCTIONS FROM PUBLIC;\n");
	ck_assert_int_eq(sql_drop(m, o, &drop), 0);
	ck_assert_str_eq(drop, "ALTER DEFAULT PRIVILEGES FOR ROLE postgres GRANT EXECUTE ON "
			       "FUNCTIONS TO PUBLIC;\n");
	free(def);
	free(drop);
	model_free(m);
}
END_TEST

START_TEST(test_literals_and_unknown)
{
	struct model *m = model();
	const struct model_object *t = table(m, "o", NULL, 0);
	struct model_value c = { .type = MODEL_STR, .u.str = "it's\n\\ new" };
	struct model_value bad = { .type = MODEL_STR, .u.str = "\xff" };
	char *sql;

	ck_assert_int_eq(sql_alter(m, t, "comment", NULL, &c, &sql), 0);
	ck_assert_str_eq(sql, "COMMENT ON TABLE s.t IS E'it''s\\x0a\\\\ new';\n");
	free(sql);
	ck_assert_int_eq(sql_alter(m, t, "comment", &c, NULL, &sql), 0);
	ck_assert_str_eq(sql, "COMMENT ON TABLE s.t IS NULL;\n");
	free(sql);
	/* Nothing exact: a value that is not UTF-8, an attribute without a statement. */
	ck_assert_int_eq(sql_alter(m, t, "comment", NULL, &bad, &sql), 0);
	ck_assert_ptr_null(sql);
	ck_assert_int_eq(sql_alter(m, t, "tablespace", NULL, &c, &sql), 0);
	ck_assert_ptr_null(sql);
	/* Tables are neither created nor dropped by a suggestion. */
	ck_assert_int_eq(sql_create(m, t, &sql), 0);
	ck_assert_ptr_null(sql);
	ck_assert_int_eq(sql_drop(m, t, &sql), 0);
	ck_assert_ptr_null(sql);
	model_free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sql");
	TCase *tc = tcase_create("sql");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_quote_ident);
	tcase_add_test(tc, test_grants);
	tcase_add_test(tc, test_grants_of_another_grantor_are_not_guessed);
	tcase_add_test(tc, test_default_privileges);
	tcase_add_test(tc, test_literals_and_unknown);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
