/* Unit tests for lib/live.c's pure parts: finding and redacting the secrets of a DSN. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"

static const char *redact(const char *dsn, const char *password, const char *msg)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "%s", msg);
	live_redact(dsn, password, buf, sizeof(buf));
	return buf;
}

START_TEST(test_has_password)
{
	ck_assert(live_dsn_has_password("host=db password=x"));
	ck_assert(live_dsn_has_password("host=db PASSWORD = x"));
	ck_assert(live_dsn_has_password("host=db Password='a b'"));
	ck_assert(live_dsn_has_password("host=db password="));
	ck_assert(live_dsn_has_password("postgresql://user:secret@host/db"));
	ck_assert(live_dsn_has_password("postgres://u:Bad%ZZPw@host/db"));
	ck_assert(live_dsn_has_password("postgresql://host/db?PassWord=s3"));
	ck_assert(!live_dsn_has_password("host=db user=mon dbname=app"));
	ck_assert(!live_dsn_has_password("postgresql://mon@host:5432/db?sslmode=require"));
	ck_assert(!live_dsn_has_password("host=db passfile=/x"));
}
END_TEST

START_TEST(test_redact_every_encoding)
{
	/* libpq quotes the token it could not decode: the password as written. */
	ck_assert_str_eq(redact("postgresql://mon:Bad%ZZPw@h/db", NULL,
				"invalid percent-encoded token: \"Bad%ZZPw\""),
			 "invalid percent-encoded token: \"***\"");
	ck_assert_str_eq(redact("postgresql://mon:p%40ss%2Fw@h/db", NULL,
				"a p@ss/w and p%40ss%2Fw"), "a *** and ***");
	ck_assert_str_eq(redact("host=h password='it\\'s quoted'", NULL,
				"x 'it\\'s quoted' it's quoted"), "x *** ***");
	ck_assert_str_eq(redact("host=h PASSWORD=plain", NULL, "saw plain"), "saw ***");
	ck_assert_str_eq(redact("postgresql://h/db?password=q%41", NULL, "qA q%41"), "*** ***");
	ck_assert_str_eq(redact("host=h", "fromfile", "fromfile!"), "***!");
	/* and the escaping rule on top */
	ck_assert_str_eq(redact("host=h", NULL, "bad\x1b[2J\xff"), "bad\\x1b[2J\\xff");
}
END_TEST

START_TEST(test_redact_short_secret_no_room)
{
	char buf[8] = "xaxaxa";

	/* Growing "a" to "***" does not fit: the text is cut, never left with it. */
	live_redact("password=a", NULL, buf, sizeof(buf));
	ck_assert_ptr_null(strchr(buf, 'a'));
}
END_TEST

static Suite *live_suite(void)
{
	Suite *s = suite_create("live");
	TCase *tc = tcase_create("secrets");

	tcase_add_test(tc, test_has_password);
	tcase_add_test(tc, test_redact_every_encoding);
	tcase_add_test(tc, test_redact_short_secret_no_room);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(live_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
