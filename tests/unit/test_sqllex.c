/* Unit tests for lib/sqllex.c: statement boundaries and lines, as psql splits a script. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sqllex.h"

static struct sqllex_statement *split(const char *sql, size_t *n)
{
	struct sqllex_statement *st = NULL;

	ck_assert_int_eq(sqllex_split(sql, 1, &st, n), 0);
	return st;
}

static void assert_stmt(const struct sqllex_statement *st, const char *text, int line)
{
	ck_assert_int_eq((int)st->len, (int)strlen(text));
	ck_assert(strncmp(st->text, text, st->len) == 0);
	ck_assert_int_eq(st->line, line);
}

START_TEST(test_split_quotes_comments_dollars)
{
	const char *sql = "CREATE TABLE a (x text DEFAULT 'a;b');\n"
			  "-- a comment; not a statement\n"
			  "/* nested /* ; */ ; */ SELECT E'\\';';\n"
			  "CREATE FUNCTION f() RETURNS int AS $f$ SELECT 1; $f$ LANGUAGE sql;\n"
			  "\n"
			  "SELECT \"x;y\" FROM t";
	size_t n;
	struct sqllex_statement *st = split(sql, &n);

	ck_assert_int_eq((int)n, 4);
	assert_stmt(&st[0], "CREATE TABLE a (x text DEFAULT 'a;b')", 1);
	assert_stmt(&st[1], "SELECT E'\\';'", 3); /* comments before it are not part of it */
	assert_stmt(&st[2], "CREATE FUNCTION f() RETURNS int AS $f$ SELECT 1; $f$ LANGUAGE sql", 4);
	assert_stmt(&st[3], "SELECT \"x;y\" FROM t", 6);
	free(st);
}
END_TEST

START_TEST(test_split_begin_atomic_and_meta_commands)
{
	const char *sql = "\\restrict abc\n"
			  "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql\n"
			  "BEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN true THEN 1 END;\nEND;\n"
			  "BEGIN;\nSELECT 2;\nEND;\n";
	size_t n;
	struct sqllex_statement *st = split(sql, &n);

	ck_assert_int_eq((int)n, 4);
	ck_assert_int_eq(st[0].line, 2);
	ck_assert(strncmp(st[0].text + st[0].len - 3, "END", 3) == 0);
	assert_stmt(&st[1], "BEGIN", 7); /* a transaction's BEGIN is no routine body */
	assert_stmt(&st[2], "SELECT 2", 8);
	assert_stmt(&st[3], "END", 9);
	free(st);
}
END_TEST

START_TEST(test_token_lengths)
{
	ck_assert_int_eq((int)sqllex_token_len("$x$ a $ b $x$;"), 13);
	ck_assert_int_eq((int)sqllex_token_len("$1 + 2"), 2); /* a parameter, not a dollar quote */
	ck_assert_int_eq((int)sqllex_token_len("'it''s' x"), 7);
	ck_assert_int_eq((int)sqllex_token_len("E'a\\'b' x"), 7);
	ck_assert_int_eq((int)sqllex_token_len("/* a /* b */ c */ d"), 17);
	ck_assert_int_eq((int)sqllex_token_len("'unterminated"), 13);
	ck_assert_int_eq((int)sqllex_token_len(""), 0);
}
END_TEST

static Suite *test_sqllex_suite(void)
{
	Suite *s = suite_create("sqllex");
	TCase *tc = tcase_create("split");

	tcase_add_test(tc, test_split_quotes_comments_dollars);
	tcase_add_test(tc, test_split_begin_atomic_and_meta_commands);
	tcase_add_test(tc, test_token_lengths);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(test_sqllex_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
