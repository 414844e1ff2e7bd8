/* Unit tests for lib/isotime.c: the one UTC-time formatter. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isotime.h"

START_TEST(test_formats)
{
	char out[ISOTIME_SIZE];

	isotime_format(0, out);
	ck_assert_str_eq(out, "1970-01-01T00:00:00Z");
	isotime_format(1714564800, out);
	ck_assert_str_eq(out, "2024-05-01T12:00:00Z");
	isotime_format(951782400, out); /* a leap day */
	ck_assert_str_eq(out, "2000-02-29T00:00:00Z");
	isotime_format(-1, out);
	ck_assert_str_eq(out, "1969-12-31T23:59:59Z");
	isotime_format(253402300799LL, out);
	ck_assert_str_eq(out, "9999-12-31T23:59:59Z");
	ck_assert_uint_eq(strlen(out) + 1, ISOTIME_SIZE);
}
END_TEST

START_TEST(test_no_such_time)
{
	char out[ISOTIME_SIZE];

	/* gmtime_r cannot represent it (the year overflows an int): a clear word, never
	 * a truncated or unterminated string. */
	isotime_format((time_t)INT64_MAX, out);
	ck_assert_str_eq(out, "invalid-time");
	/* A year past 9999 does not fit "YYYY-...": refused the same way. */
	isotime_format(253402300800LL, out);
	ck_assert_str_eq(out, "invalid-time");
}
END_TEST

static Suite *isotime_suite(void)
{
	Suite *s = suite_create("isotime");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_formats);
	tcase_add_test(tc, test_no_such_time);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(isotime_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
