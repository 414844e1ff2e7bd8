/* Unit tests for lib/migrate.c: detection, file order, "up" sections, statement lines, Flyway checksums. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrate.h"

START_TEST(test_flyway_checksum)
{
	/* Line ends and a BOM do not count: the same lines give the same sum. */
	int32_t a = migrate_flyway_checksum("a\nb\n", 4);
	ck_assert_int_eq(a, migrate_flyway_checksum("a\r\nb\r\n", 6));
	ck_assert_int_eq(a, migrate_flyway_checksum("\xEF\xBB\xBF" "a\nb", 6));
	/* CRC32 of "ab" as a signed int (Java's (int) CRC32.getValue()). */
	ck_assert_int_eq(a, (int32_t)0x9E83486D);
}
END_TEST

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test-migrate-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_detect_and_order)
{
	struct migrate_set *s = NULL;
	struct error err;

	put("10_c.sql", "");
	put("2_b.sql", "");
	put("1_a.sql", "");
	ck_assert_int_eq(migrate_open(dir, NULL, &s, &err), 0);
	ck_assert_str_eq(migrate_format_name(s->format), "sql-dir");
	ck_assert_str_eq(s->files[0].name, "1_a.sql");
	ck_assert_str_eq(s->files[1].name, "2_b.sql");
	ck_assert_str_eq(s->files[2].name, "10_c.sql");
	migrate_set_free(s);
	put("V10__x.sql", "");
	put("V2_1__y.sql", "");
	put("R__v.sql", "");
	ck_assert_int_eq(migrate_open(dir, NULL, &s, &err), 0);
	ck_assert_str_eq(migrate_format_name(s->format), "flyway");
	ck_assert_int_eq((int)s->n_files, 3);
	ck_assert_str_eq(s->files[0].version, "2.1");
	ck_assert_str_eq(s->files[1].name, "V10__x.sql");
	ck_assert(s->files[2].repeatable);
	migrate_set_free(s);
}
END_TEST

START_TEST(test_goose_up_section)
{
	struct migrate_set *s = NULL;
	struct migrate_statement *st = NULL;
	struct error err;
	size_t n;

	put("001_a.sql", "-- +goose Up\n"
			 "CREATE TABLE t (id int); CREATE TABLE u (id int);\n"
			 "-- +goose StatementBegin\n"
			 "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS '\n"
			 "BEGIN RETURN 1; END;';\n"
			 "-- +goose StatementEnd\n"
			 "-- +goose Down\n"
			 "DROP TABLE t;\n");
	ck_assert_int_eq(migrate_open(dir, NULL, &s, &err), 0);
	ck_assert_str_eq(migrate_format_name(s->format), "goose");
	ck_assert_int_eq(migrate_file_statements(s, &s->files[0], &st, &n, &err), 0);
	ck_assert_int_eq((int)n, 3);
	ck_assert_str_eq(st[0].text, "CREATE TABLE t (id int)");
	ck_assert_int_eq(st[0].line, 2);
	ck_assert_int_eq(st[2].line, 4);
	ck_assert(strstr(st[2].text, "RETURN 1; END;';") != NULL);
	migrate_statements_free(st, n);
	migrate_set_free(s);
	put("002_b.sql", "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n");
	ck_assert_int_eq(migrate_open(dir, NULL, &s, &err), 0);
	ck_assert_int_lt(migrate_file_statements(s, &s->files[1], &st, &n, &err), 0);
	ck_assert(strstr(err.text, "002_b.sql:2: StatementBegin without StatementEnd") != NULL);
	migrate_set_free(s);
}
END_TEST

START_TEST(test_duplicate_version)
{
	struct migrate_set *s = NULL;
	struct error err;

	put("001_a.up.sql", "");
	put("1_b.up.sql", "");
	ck_assert_int_lt(migrate_open(dir, NULL, &s, &err), 0);
	ck_assert(strstr(err.text, "two migrations of version") != NULL);
}
END_TEST

static Suite *test_migrate_suite(void)
{
	Suite *s = suite_create("migrate");
	TCase *sums = tcase_create("checksum"), *files = tcase_create("files");

	tcase_add_test(sums, test_flyway_checksum);
	suite_add_tcase(s, sums);
	tcase_add_checked_fixture(files, setup, teardown);
	tcase_add_test(files, test_detect_and_order);
	tcase_add_test(files, test_goose_up_section);
	tcase_add_test(files, test_duplicate_version);
	suite_add_tcase(s, files);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(test_migrate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
