/* Unit tests for lib/mime.c on its own: mailboxes, encoded headers, quoted-printable, safe text. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

START_TEST(test_mailbox_parse)
{
	struct mime_mailbox m;
	const char *why = NULL;
	const char *s;

	s = "  ops@example.test ";
	ck_assert_int_eq(mime_mailbox_parse(s, strlen(s), &m, &why), 0);
	ck_assert_str_eq(m.addr, "ops@example.test");
	ck_assert_ptr_null(m.name);
	mime_mailbox_done(&m);
	s = "\"On Call\" <oncall@db.example.test>";
	ck_assert_int_eq(mime_mailbox_parse(s, strlen(s), &m, &why), 0);
	ck_assert_str_eq(m.name, "On Call");
	ck_assert_str_eq(m.addr, "oncall@db.example.test");
	mime_mailbox_done(&m);
	s = "not an address";
	ck_assert_int_eq(mime_mailbox_parse(s, strlen(s), &m, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "not an email address"));
	s = "Ops <a@b.test";
	ck_assert_int_eq(mime_mailbox_parse(s, strlen(s), &m, &why), -EINVAL);
	s = "\"Bad\rName\" <a@b.test>";
	ck_assert_int_eq(mime_mailbox_parse(s, strlen(s), &m, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "control character"));
}
END_TEST

START_TEST(test_headers)
{
	struct mime_mailbox to[2] = { { "Ops Team", "ops@example.test" },
				      { "Zoë", "zoe@example.test" } };
	struct strbuf b = { 0 };
	char *text, *s;

	mime_put_unstructured_header(&b, "Subject", "Schema drift on billing");
	mime_put_unstructured_header(&b, "Subject", "Dérive");
	mime_put_address_header(&b, "To", to, 2);
	s = strbuf_take(&b);
	ck_assert_str_eq(s, "Subject: Schema drift on billing\r\n"
			    "Subject: =?UTF-8?B?RMOpcml2ZQ==?=\r\n"
			    "To: Ops Team <ops@example.test>, =?UTF-8?B?Wm/Dqw==?= <zoe@example.test>\r\n");
	free(s);
	/* A header is one line: control characters become spaces. */
	text = mime_header_text("a\r\nBcc: x@y.test");
	ck_assert_str_eq(text, "a  Bcc: x@y.test");
	free(text);
}
END_TEST

START_TEST(test_quoted_printable)
{
	struct strbuf b = { 0 };
	char line[200], *s, *p;

	memset(line, 'a', 100);
	strcpy(line + 100, " =end \n");
	mime_put_quoted_printable(&b, line);
	s = strbuf_take(&b);
	/* Soft breaks keep lines within 76; '=' and the trailing blank are encoded. */
	for (p = s; *p;) {
		char *eol = strstr(p, "\r\n");

		ck_assert_ptr_nonnull(eol);
		ck_assert_int_le(eol - p, 76);
		p = eol + 2;
	}
	ck_assert_ptr_nonnull(strstr(s, "=3Dend=20\r\n"));
	ck_assert_int_eq(s[75], '=');
	free(s);
}
END_TEST

START_TEST(test_text_is_made_harmless)
{
	struct strbuf b = { 0 };
	char *s;

	mime_put_text(&b, "a\nb\x07<i>\xff\xe2\x80\xae", NULL, true);
	s = strbuf_take(&b);
	ck_assert_str_eq(s, "a\\nb\\x07&lt;i&gt;\xef\xbf\xbd\\u202e");
	free(s);
	mime_put_text(&b, "line1\nline2", "  ", false);
	s = strbuf_take(&b);
	ck_assert_str_eq(s, "line1\n  line2");
	free(s);
}
END_TEST

static Suite *mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_mailbox_parse);
	tcase_add_test(tc, test_headers);
	tcase_add_test(tc, test_quoted_printable);
	tcase_add_test(tc, test_text_is_made_harmless);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mime_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
