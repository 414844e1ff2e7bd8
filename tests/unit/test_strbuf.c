/* Unit tests for lib/strbuf.c: appends, formatting, reuse, and the sticky failure. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

START_TEST(test_empty_take_is_empty_string)
{
	struct strbuf b = { 0 };
	char *s = strbuf_take(&b);

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	ck_assert_ptr_null(b.s);
	free(s);
}
END_TEST

START_TEST(test_appends_and_growth)
{
	struct strbuf b = { 0 };
	char big[3000];
	char *s;

	memset(big, 'x', sizeof(big));
	strbuf_puts(&b, "ab");
	strbuf_putc(&b, 'c');
	strbuf_put(&b, "defgh", 2);
	strbuf_printf(&b, "[%d:%s]", 42, "z");
	ck_assert_str_eq(b.s, "abcde[42:z]");
	ck_assert_uint_eq(b.len, 11);
	strbuf_put(&b, big, sizeof(big)); /* past the first allocation, several times */
	ck_assert_uint_eq(b.len, 11 + sizeof(big));
	ck_assert_int_eq(b.s[b.len], '\0');
	ck_assert_uint_ge(b.cap, b.len + 1);
	s = strbuf_take(&b);
	ck_assert_uint_eq(strlen(s), 11 + sizeof(big));
	ck_assert_int_eq(memcmp(s, "abcde[42:z]xxx", 14), 0);
	ck_assert_uint_eq(b.len, 0);
	free(s);
}
END_TEST

START_TEST(test_reset_keeps_memory)
{
	struct strbuf b = { 0 };
	char *mem;

	strbuf_puts(&b, "first");
	mem = b.s;
	strbuf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.s, "");
	strbuf_puts(&b, "second");
	ck_assert_ptr_eq(b.s, mem);
	ck_assert_str_eq(b.s, "second");
	strbuf_done(&b);
	ck_assert_ptr_null(b.s);
}
END_TEST

START_TEST(test_failure_is_sticky_and_reported_by_take)
{
	struct strbuf b = { 0 };

	strbuf_puts(&b, "kept");
	/* A size no allocator grants: the failure is remembered, not a crash. */
	ck_assert(!strbuf_reserve(&b, (size_t)-1 / 2));
	ck_assert(b.failed);
	strbuf_puts(&b, "more");
	ck_assert_uint_eq(b.len, 4);
	ck_assert_ptr_null(strbuf_take(&b));
	ck_assert(!b.failed);
	ck_assert_ptr_null(b.s);
	/* After a reset the buffer works again. */
	strbuf_puts(&b, "x");
	strbuf_reset(&b);
	ck_assert(!strbuf_reserve(&b, (size_t)-1));
	strbuf_reset(&b);
	ck_assert(!b.failed);
	strbuf_puts(&b, "ok");
	ck_assert_str_eq(b.s, "ok");
	strbuf_done(&b);
}
END_TEST

static Suite *strbuf_suite(void)
{
	Suite *s = suite_create("strbuf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_empty_take_is_empty_string);
	tcase_add_test(tc, test_appends_and_growth);
	tcase_add_test(tc, test_reset_keeps_memory);
	tcase_add_test(tc, test_failure_is_sticky_and_reported_by_take);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(strbuf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
