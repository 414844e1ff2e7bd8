/* Unit tests for lib/filter.c's whitespace-blind SQL: the tokenizer behind --ignore body-whitespace. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

/* filter_normalize_sql(in) must be want. */
static void norm_is(const char *in, const char *want)
{
	char *got = filter_normalize_sql(in);

	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, want) == 0, "normalize(%s) = [%s], want [%s]", in, got, want);
	free(got);
}

START_TEST(test_whitespace_between_tokens)
{
	norm_is("", "");
	norm_is(" \t\n ", "");
	norm_is("SELECT  1\n\t+\r\n2 ;", "SELECT 1 + 2 ;");
	norm_is("  BEGIN\n  RETURN x;\nEND  ", "BEGIN RETURN x ; END");
	/* Reindenting a body gives the same text: the point of the filter. */
	norm_is("select a,\n       b\n  from t", "select a , b from t");
	norm_is("select a, b from t", "select a , b from t");
}
END_TEST

START_TEST(test_quotes_keep_their_insides)
{
	norm_is("SELECT 'a   b',  \"Col  Name\"", "SELECT 'a   b' , \"Col  Name\"");
	norm_is("SELECT 'it''s  here'", "SELECT 'it''s  here'");
	/* E'' strings take backslash escapes: \' does not end them. */
	norm_is("SELECT E'a\\'  b'  ,  1", "SELECT E'a\\'  b' , 1");
	/* Without E a backslash is an ordinary character, so the string ends at the quote. */
	norm_is("SELECT 'a\\'  ,  1", "SELECT 'a\\' , 1");
}
END_TEST

START_TEST(test_dollar_quotes_and_parameters)
{
	norm_is("AS $$ BEGIN\n  x := 1;\nEND $$  LANGUAGE plpgsql",
		"AS $$ BEGIN\n  x := 1;\nEND $$ LANGUAGE plpgsql");
	norm_is("AS $body$ a  $$ b $body$ ;", "AS $body$ a  $$ b $body$ ;");
	/* $1 is a parameter, not a dollar quote. */
	norm_is("SELECT $1  +  $2", "SELECT $1 + $2");
	/* An unterminated dollar quote runs to the end. */
	norm_is("AS $x$  open", "AS $x$  open");
}
END_TEST

START_TEST(test_comments)
{
	/* A line comment keeps its line break, or the next token would join the comment. */
	norm_is("a -- note  here\n  b", "a -- note  here\nb");
	norm_is("a /* one /* nested  */ still */   b", "a /* one /* nested  */ still */ b");
	/* Operators stop before a comment starts. */
	norm_is("a+--c\nb", "a + --c\nb");
	norm_is("a=/*c*/b", "a = /*c*/ b");
}
END_TEST

START_TEST(test_operators_and_words)
{
	norm_is("a<>b", "a <> b");
	norm_is("x::int", "x : : int"); /* ':' is punctuation, one token each */
	norm_is("f(a,b)", "f ( a , b )");
	norm_is("café_1 + ünï", "café_1 + ünï");
}
END_TEST

static Suite *filter_suite(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("normalize_sql");

	tcase_add_test(tc, test_whitespace_between_tokens);
	tcase_add_test(tc, test_quotes_keep_their_insides);
	tcase_add_test(tc, test_dollar_quotes_and_parameters);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_operators_and_words);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(filter_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
