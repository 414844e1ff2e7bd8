/* Unit tests for lib/utf8.c: validation and the escaping rule for terminals and logs. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static char *esc(const char *s, size_t n, unsigned flags)
{
	static char out[512];

	utf8_escape(s, n, flags, out, sizeof(out));
	return out;
}

START_TEST(test_controls_escaped)
{
	const char in[] = "a\x1b]0;pwned\x07" "b\rc\bd\x7f" "e\nf\tg";

	ck_assert_str_eq(esc(in, strlen(in), 0),
			 "a\\x1b]0;pwned\\x07b\\x0dc\\x08d\\x7fe\\x0af\\x09g");
	ck_assert_str_eq(esc(in, strlen(in), UTF8_KEEP_LAYOUT),
			 "a\\x1b]0;pwned\\x07b\\x0dc\\x08d\\x7fe\nf\tg");
	ck_assert_str_eq(esc(in, strlen(in), UTF8_KEEP_TAB),
			 "a\\x1b]0;pwned\\x07b\\x0dc\\x08d\\x7fe\\x0af\tg");
}
END_TEST

START_TEST(test_invalid_utf8_and_nul)
{
	const char in[] = "x\xff\xfe" "y\xe2\x82" "z\0w";

	ck_assert_str_eq(esc(in, sizeof(in) - 1, 0), "x\\xff\\xfey\\xe2\\x82z\\x00w");
	/* A sequence cut by the end of the buffer is never read past it. */
	ck_assert_str_eq(esc("\xe2\x80\xae", 2, 0), "\\xe2\\x80");
}
END_TEST

START_TEST(test_bidi_and_c1)
{
	/* rtl_<U+202E>gnp.exe displays as rtl_exe.png when written raw. */
	const char name[] = "rtl_\xe2\x80\xaegnp.exe";
	const char all[] = "\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x80\xae"
			   "\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9";

	ck_assert_str_eq(esc(name, strlen(name), 0), "rtl_\\u202egnp.exe");
	ck_assert_str_eq(esc(all, strlen(all), UTF8_KEEP_LAYOUT),
			 "\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069");
	ck_assert_str_eq(esc("\xc2\x9b" "31m", 5, 0), "\\u009b31m"); /* CSI as C1 */
	/* Neighbours that are not controls stay as they are. */
	ck_assert_str_eq(esc("\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xc2\xa0\xc3\xa9", 13, 0),
			 "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xc2\xa0\xc3\xa9");
}
END_TEST

START_TEST(test_idempotent_and_cut)
{
	const char in[] = "a\x1b\xff\xe2\x80\xae\\x1b";
	char once[128], twice[128], small[8];

	utf8_escape(in, strlen(in), 0, once, sizeof(once));
	utf8_escape(once, strlen(once), 0, twice, sizeof(twice));
	ck_assert_str_eq(once, twice);
	/* Cut at a whole escape: never half of "\x1b". */
	utf8_escape("abcd\x1b", 5, 0, small, sizeof(small));
	ck_assert_str_eq(small, "abcd");
}
END_TEST

START_TEST(test_inplace_and_dup)
{
	char buf[16] = "ab\x1b\xff";
	char *d = utf8_escape_dup("\xe2\x81\xa6x", 0);

	utf8_escape_inplace(buf, sizeof(buf), 0);
	ck_assert_str_eq(buf, "ab\\x1b\\xff");
	ck_assert_str_eq(d, "\\u2066x");
	free(d);
}
END_TEST

static Suite *utf8_suite(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("escape");

	tcase_add_test(tc, test_controls_escaped);
	tcase_add_test(tc, test_invalid_utf8_and_nul);
	tcase_add_test(tc, test_bidi_and_c1);
	tcase_add_test(tc, test_idempotent_and_cut);
	tcase_add_test(tc, test_inplace_and_dup);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(utf8_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
