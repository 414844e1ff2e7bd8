/* Unit tests for lib/dbcheck.c: [check NAME] sections, plans, copies, saved runs (the checks themselves run against PostgreSQL in tests/integration/test_check.py). */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbcheck.h"
#include "ini.h"

static char dir[PATH_MAX];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/schemadrift-dbcheck-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void put(const char *name, const char *text)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Parses text as DIR/test.conf; returns the custom checks or NULL with err. */
static struct dbcheck_custom_set *customs(const char *text, int expect, struct error *err)
{
	char name[PATH_MAX + 16];
	struct dbcheck_custom_set *set = NULL;
	struct ini *raw = NULL;

	snprintf(name, sizeof(name), "%s/test.conf", dir);
	ck_assert_int_eq(ini_parse(text, strlen(text), name, &raw, err), 0);
	ck_assert_int_eq(dbcheck_customs_from_ini(raw, &set, err), expect);
	ini_free(raw);
	return set;
}

START_TEST(sections_sql_file_and_keys)
{
	struct error err;
	struct dbcheck_custom_set *s;

	put("q.sql", "SELECT 2;\n");
	s = customs("[check a]\nsql = SELECT 1\nseverity = breaking\nmax_rows = 5\n"
		    "statement_timeout = 2s\nlock_timeout = 100ms\n"
		    "targets = x, y\ndescription = the rule\n\n[check b]\nfile = q.sql\n", 0, &err);
	ck_assert_uint_eq(s->n, 2);
	ck_assert_str_eq(s->items[0].name, "a");
	ck_assert_str_eq(s->items[0].sql, "SELECT 1");
	ck_assert_int_eq(s->items[0].severity, DIFF_BREAKING);
	ck_assert_int_eq(s->items[0].max_rows, 5);
	ck_assert_int_eq(s->items[0].statement_timeout_ms, 2000);
	ck_assert_int_eq(s->items[0].lock_timeout_ms, 100);
	ck_assert_int_eq(s->items[1].statement_timeout_ms, 0);
	ck_assert_uint_eq(s->items[0].n_targets, 2);
	ck_assert_str_eq(s->items[0].targets[1], "y");
	ck_assert_str_eq(s->items[0].description, "the rule");
	ck_assert(dbcheck_custom_applies(&s->items[0], "x"));
	ck_assert(!dbcheck_custom_applies(&s->items[0], "z"));
	/* The file, relative to the configuration; defaults. */
	ck_assert_str_eq(s->items[1].sql, "SELECT 2;\n");
	ck_assert_int_eq(s->items[1].severity, DIFF_WARNING);
	ck_assert(dbcheck_custom_applies(&s->items[1], "z"));

	struct dbcheck_custom_set *copy = NULL;
	ck_assert_int_eq(dbcheck_custom_set_dup(s, &copy), 0);
	dbcheck_custom_set_free(s);
	ck_assert_str_eq(copy->items[0].targets[0], "x");
	ck_assert_str_eq(copy->items[1].sql, "SELECT 2;\n");
	dbcheck_custom_set_free(copy);
}
END_TEST

START_TEST(section_errors_name_file_and_line)
{
	struct error err;

	customs("[check a]\nsql = SELECT 1\nseverity = huge\n", -EINVAL, &err);
	ck_assert_ptr_nonnull(strstr(err.text, "test.conf:3: key 'severity'"));
	customs("[check a]\nsql = SELECT 1\nwhere = x\n", -EINVAL, &err);
	ck_assert_ptr_nonnull(strstr(err.text, "test.conf:3: key 'where': unknown key in [check a]"));
	customs("\n[check a]\nsql = SELECT 1\nfile = x.sql\n", -EINVAL, &err);
	ck_assert_ptr_nonnull(strstr(err.text, "test.conf:2: [check a]: needs exactly one of"));
	customs("[check a]\nseverity = info\n", -EINVAL, &err);
	ck_assert_ptr_nonnull(strstr(err.text, "needs exactly one of sql = or file ="));
	customs("[check a]\nfile = missing.sql\n", -ENOENT, &err);
	ck_assert_ptr_nonnull(strstr(err.text, "test.conf:2: key 'file'"));
	customs("[check a]\nsql = x\nmax_rows = 0\n", -EINVAL, &err);
	ck_assert_ptr_nonnull(strstr(err.text, "test.conf:3"));
}
END_TEST

START_TEST(plans_from_names)
{
	struct error err;
	struct dbcheck_custom_set *s = customs("[check mine]\nsql = SELECT 1\ntargets = t1\n\n"
					       "[check any]\nsql = SELECT 1\n", 0, &err);
	struct dbcheck_plan *p = NULL;
	char *all[] = { "all" }, *dup[] = { "fk-index", "orphans", "fk-index" };
	char *custom[] = { "custom" }, *one[] = { "custom:mine" }, *bad[] = { "nonsense" };
	char *missing[] = { "custom:nope" };

	ck_assert_int_eq(dbcheck_plan_new(all, 1, s, NULL, &p, &err), 0);
	ck_assert_uint_eq(dbcheck_plan_size(p), 6);
	dbcheck_plan_free(p);
	ck_assert_int_eq(dbcheck_plan_new(all, 1, s, "t2", &p, &err), 0);
	ck_assert_uint_eq(dbcheck_plan_size(p), 5); /* mine is for t1 only */
	dbcheck_plan_free(p);
	ck_assert_int_eq(dbcheck_plan_new(dup, 3, s, NULL, &p, &err), 0);
	ck_assert_uint_eq(dbcheck_plan_size(p), 2); /* named twice, run once */
	dbcheck_plan_free(p);
	ck_assert_int_eq(dbcheck_plan_new(custom, 1, s, "t1", &p, &err), 0);
	ck_assert_uint_eq(dbcheck_plan_size(p), 2);
	dbcheck_plan_free(p);
	ck_assert_int_eq(dbcheck_plan_new(one, 1, s, "t2", &p, &err), 0);
	ck_assert_uint_eq(dbcheck_plan_size(p), 1); /* named: runs wherever it is named */
	dbcheck_plan_free(p);
	ck_assert_int_eq(dbcheck_plan_new(bad, 1, s, NULL, &p, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.text, "unknown check 'nonsense'"));
	ck_assert_int_eq(dbcheck_plan_new(missing, 1, s, NULL, &p, &err), -EINVAL);
	ck_assert_str_eq(err.text, "no [check nope] section for check 'custom:nope'");
	ck_assert(dbcheck_name_valid("custom:anything"));
	ck_assert(dbcheck_name_valid("null-violations"));
	ck_assert(!dbcheck_name_valid("custom:"));
	ck_assert(!dbcheck_name_valid("fk_index"));
	dbcheck_custom_set_free(s);
}
END_TEST

START_TEST(saved_run_keys)
{
	struct error err;
	char **keys = NULL;
	size_t n = 0;

	ck_assert_int_eq(dbcheck_saved_keys(dir, &keys, &n, &err), -ENOENT);
	put(DBCHECK_SAVED_FILE, "{\"findings\": [{\"key\": \"fk-index:public.t.fk\"}, "
				"{\"key\": \"custom:x\"}]}");
	ck_assert_int_eq(dbcheck_saved_keys(dir, &keys, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(keys[0], "fk-index:public.t.fk");
	ck_assert_str_eq(keys[1], "custom:x");
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	put(DBCHECK_SAVED_FILE, "not json");
	ck_assert_int_eq(dbcheck_saved_keys(dir, &keys, &n, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.text, DBCHECK_SAVED_FILE));
}
END_TEST

static Suite *dbcheck_suite(void)
{
	Suite *s = suite_create("dbcheck");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sections_sql_file_and_keys);
	tcase_add_test(tc, section_errors_name_file_and_line);
	tcase_add_test(tc, plans_from_names);
	tcase_add_test(tc, saved_run_keys);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dbcheck_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
