/* Unit tests for lib/ini.c: syntax, errors with file:line, includes and loops, secrets, typed values. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ini.h"

/* ------------------------------------------------------------ helpers */

static char test_dir[PATH_MAX];

static void setup(void)
{
	snprintf(test_dir, sizeof(test_dir), "/tmp/schemadrift-conf-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(test_dir));
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Writes dir/name with mode; returns the path (static buffer rotation). */
static const char *put(const char *name, const char *text, mode_t mode)
{
	static char paths[8][PATH_MAX];
	static int next;
	char *path = paths[next++ % 8];
	FILE *f;

	snprintf(path, PATH_MAX, "%s/%s", test_dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

static struct ini *parse_ok(const char *text)
{
	struct ini *c = NULL;
	struct error err = { 0 };
	int r = ini_parse(text, strlen(text), "test.conf", &c, &err);

	ck_assert_msg(r == 0, "ini_parse: %s", err.text);
	return c;
}

/* Parses text expecting failure; returns the error text. */
static const char *parse_fail(const char *text, int code)
{
	static struct error err;
	struct ini *c = NULL;
	int r = ini_parse(text, strlen(text), "test.conf", &c, &err);

	ck_assert_int_eq(r, code);
	ck_assert_ptr_null(c);
	return err.text;
}

/* ------------------------------------------------------------ syntax */

START_TEST(test_sections_and_values)
{
	struct ini *c = parse_ok("# a comment\n"
				  "; another\n"
				  "[daemon]\n"
				  "interval = 60s\n"
				  "\n"
				  "[notifier ops]\n"
				  "  type = slack  \n"
				  "url = https://hooks.slack.com/services/T0/B0/x#frag;semi\n"
				  "password = p#ss;word = ok\n"
				  "padded = \"  spaces kept \\\" and \\\\  \"\n"
				  "empty =\n"
				  "[target billing-prod.eu_1]\n"
				  "dsn = service=billing\n");
	const struct ini_section *d = ini_find(c, "daemon", NULL);
	const struct ini_section *n = ini_find(c, "notifier", "ops");
	const struct ini_section *t = ini_find(c, "target", "billing-prod.eu_1");

	ck_assert_uint_eq(c->n_sections, 3);
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_null(d->name);
	ck_assert_int_eq(d->line, 3);
	ck_assert_ptr_nonnull(n);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_null(ini_find(c, "notifier", "nope"));
	ck_assert_str_eq(ini_get(d, "interval")->value, "60s");
	ck_assert_str_eq(ini_get(n, "type")->value, "slack");
	/* '#' and ';' inside a value are kept: comments start lines only. */
	ck_assert_str_eq(ini_get(n, "url")->value,
			 "https://hooks.slack.com/services/T0/B0/x#frag;semi");
	ck_assert_str_eq(ini_get(n, "password")->value, "p#ss;word = ok");
	ck_assert_str_eq(ini_get(n, "padded")->value, "  spaces kept \" and \\  ");
	ck_assert_str_eq(ini_get(n, "empty")->value, "");
	ck_assert_int_eq(ini_get(n, "url")->line, 8);
	ck_assert_str_eq(ini_get(n, "url")->file, "test.conf");
	ck_assert(ini_get(n, "url")->file_private);
	ck_assert_str_eq(ini_get(t, "dsn")->value, "service=billing");
	ini_free(c);
}
END_TEST

START_TEST(test_last_value_wins_and_repeats_are_kept)
{
	struct ini *c = parse_ok("[notifier h]\nheader = A: 1\nheader = B: 2\nheader = C: 3\n");
	const struct ini_section *s = ini_find(c, "notifier", "h");

	ck_assert_uint_eq(s->n_kv, 3);
	ck_assert_str_eq(ini_get(s, "header")->value, "C: 3");
	ck_assert_str_eq(s->kv[0].value, "A: 1");
	ck_assert_int_eq(s->kv[1].line, 3);
	ini_free(c);
}
END_TEST

START_TEST(test_crlf_bom_and_long_lines)
{
	size_t n = 100000;
	char *text = malloc(n + 100), *url = malloc(n + 1);
	struct ini *c;
	const struct ini_section *s;

	/* libinih cuts lines at 200 bytes; a long webhook URL must survive whole. */
	memset(url, 'a', n);
	url[n] = '\0';
	memcpy(url, "https://", 8);
	snprintf(text, n + 100, "\xEF\xBB\xBF[notifier x]\r\nurl = %s\r\ntype = webhook\r\n", url);
	c = parse_ok(text);
	s = ini_find(c, "notifier", "x");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(ini_get(s, "url")->value, url);
	ck_assert_str_eq(ini_get(s, "type")->value, "webhook");
	ck_assert_int_eq(ini_get(s, "type")->line, 3);
	ini_free(c);
	free(text);
	free(url);
}
END_TEST

START_TEST(test_syntax_errors_name_file_and_line)
{
	ck_assert_str_eq(parse_fail("[daemon]\nx = 1\nthis is not a pair\n", -EINVAL),
			 "test.conf:3: expected 'key = value', a [section] or a comment");
	ck_assert_str_eq(parse_fail("x = 1\n", -EINVAL),
			 "test.conf:1: key 'x' outside a section (only include may be)");
	ck_assert_str_eq(parse_fail("\n[notifer ops]\n", -EINVAL),
			 "test.conf:2: unknown section [notifer] (daemon, target NAME, notifier NAME "
			 "or check NAME)");
	ck_assert_str_eq(parse_fail("[notifier]\n", -EINVAL),
			 "test.conf:1: [notifier] needs a name: [notifier NAME]");
	ck_assert_str_eq(parse_fail("[daemon main]\n", -EINVAL), "test.conf:1: [daemon] takes no name");
	ck_assert_ptr_nonnull(strstr(parse_fail("[target a/b]\n", -EINVAL), "test.conf:1: invalid target name"));
	ck_assert_ptr_nonnull(strstr(parse_fail("[target .hidden]\n", -EINVAL), "invalid target name"));
	ck_assert_ptr_nonnull(strstr(parse_fail("[target two words]\n", -EINVAL), "blanks"));
	ck_assert_str_eq(parse_fail("[daemon\n", -EINVAL), "test.conf:1: section header without ']'");
	ck_assert_str_eq(parse_fail("[daemon] x\n", -EINVAL),
			 "test.conf:1: text after the section header's ']'");
	ck_assert_str_eq(parse_fail("[daemon]\npassword = \"abc\n", -EINVAL),
			 "test.conf:2: key 'password': a quoted value must end with its closing "
			 "quote");
	ck_assert_str_eq(parse_fail("[daemon]\nv = \"a\\nb\"\n", -EINVAL),
			 "test.conf:2: key 'v': only \\\" and \\\\ may be escaped in a quoted value");
	{
		static const char nul[] = "[daemon]\nx = 1\0y = 2\n";
		struct ini *c = NULL;
		struct error err;

		ck_assert_int_eq(ini_parse(nul, sizeof(nul) - 1, "test.conf", &c, &err), -EINVAL);
		ck_assert_ptr_nonnull(strstr(err.text, "NUL"));
	}
}
END_TEST

START_TEST(test_duplicate_sections)
{
	ck_assert_str_eq(parse_fail("[notifier ops]\ntype = slack\n\n[notifier ops]\n", -EEXIST),
			 "test.conf:4: duplicate section [notifier ops] (first at test.conf:1)");
	ck_assert_str_eq(parse_fail("[daemon]\n[daemon]\n", -EEXIST),
			 "test.conf:2: duplicate section [daemon] (first at test.conf:1)");
	/* Same name, different kinds: fine. */
	ini_free(parse_ok("[target ops]\n[notifier ops]\n"));
}
END_TEST

/* ------------------------------------------------------------ includes */

START_TEST(test_include_file_and_directory)
{
	char dir[PATH_MAX], main_text[PATH_MAX * 2];
	struct ini *c = NULL;
	struct error err;
	const struct ini_section *s;
	const char *main_path;

	put("secrets.inc", "password = from-include\n", 0600);
	snprintf(dir, sizeof(dir), "%s/conf.d", test_dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	put("conf.d/20-b.conf", "[notifier b]\ntype = slack\n", 0600);
	put("conf.d/10-a.conf", "[notifier a]\ntype = discord\n", 0600);
	put("conf.d/README", "not a config: ignored\n", 0600);
	put("conf.d/.hidden.conf", "[notifier hidden]\n", 0600);
	snprintf(main_text, sizeof(main_text),
		 "[notifier mail]\ntype = smtp\ninclude = secrets.inc\nport = 25\n"
		 "include = conf.d\n");
	main_path = put("main.conf", main_text, 0600);
	ck_assert_msg(ini_load(main_path, &c, &err) == 0, "%s", err.text);
	/* Include inside a section: the included keys go into it, and the
	 * including file carries on in that section afterwards. */
	s = ini_find(c, "notifier", "mail");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(ini_get(s, "password")->value, "from-include");
	ck_assert_ptr_nonnull(strstr(ini_get(s, "password")->file, "secrets.inc"));
	ck_assert_int_eq(ini_get(s, "password")->line, 1);
	ck_assert_str_eq(ini_get(s, "port")->value, "25");
	/* conf.d in name order, *.conf only, no hidden files. */
	ck_assert_uint_eq(c->n_sections, 3);
	ck_assert_str_eq(c->sections[1].name, "a");
	ck_assert_str_eq(c->sections[2].name, "b");
	ck_assert_ptr_null(ini_find(c, "notifier", "hidden"));
	ini_free(c);
}
END_TEST

START_TEST(test_include_loop)
{
	struct ini *c = NULL;
	struct error err;
	const char *a;

	put("b.conf", "[notifier b]\ninclude = a.conf\n", 0600);
	a = put("a.conf", "[notifier a]\ninclude = b.conf\n", 0600);
	ck_assert_int_eq(ini_load(a, &c, &err), -ELOOP);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err.text, "b.conf:2: include loop:") != NULL, "%s", err.text);
	ck_assert_msg(strstr(err.text, "a.conf is already being read") != NULL, "%s", err.text);

	/* A file including itself. */
	a = put("self.conf", "include = self.conf\n", 0600);
	ck_assert_int_eq(ini_load(a, &c, &err), -ELOOP);
}
END_TEST

START_TEST(test_include_missing_and_duplicates_across_files)
{
	struct ini *c = NULL;
	struct error err;
	const char *m;

	m = put("m.conf", "[daemon]\n\ninclude = nowhere.conf\n", 0600);
	ck_assert_int_eq(ini_load(m, &c, &err), -ENOENT);
	ck_assert_msg(strstr(err.text, "m.conf:3: include '") != NULL, "%s", err.text);
	ck_assert_msg(strstr(err.text, "nowhere.conf': No such file or directory") != NULL, "%s",
		      err.text);

	put("other.conf", "[notifier ops]\n", 0600);
	m = put("m2.conf", "[notifier ops]\ninclude = other.conf\n", 0600);
	ck_assert_int_eq(ini_load(m, &c, &err), -EEXIST);
	ck_assert_msg(strstr(err.text, "other.conf:1: duplicate section [notifier ops] (first at ") !=
			      NULL,
		      "%s", err.text);
}
END_TEST

/* ------------------------------------------------------------ secrets */

START_TEST(test_check_private)
{
	struct error err;
	const char *p = put("p.conf", "x", 0600);

	ck_assert_int_eq(ini_check_private(p, &err), 0);
	ck_assert_int_eq(chmod(p, 0400), 0);
	ck_assert_int_eq(ini_check_private(p, &err), 0);
	ck_assert_int_eq(chmod(p, 0644), 0);
	ck_assert_int_eq(ini_check_private(p, &err), -EACCES);
	ck_assert_msg(strstr(err.text, "mode 0644") && strstr(err.text, "chmod 600"), "%s",
		      err.text);
	ck_assert_int_eq(chmod(p, 0604), 0);
	ck_assert_int_eq(ini_check_private(p, &err), -EACCES);
	/* root:<our group> 0640 is the packaged layout; group write never is. */
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(p, 0, getegid()), 0);
		ck_assert_int_eq(chmod(p, 0640), 0);
		ck_assert_int_eq(ini_check_private(p, &err), 0);
		ck_assert_int_eq(chmod(p, 0660), 0);
		ck_assert_int_eq(ini_check_private(p, &err), -EACCES);
		ck_assert_int_eq(chown(p, 0, getegid() + 1), 0);
		ck_assert_int_eq(chmod(p, 0640), 0);
		ck_assert_int_eq(ini_check_private(p, &err), -EACCES);
	}
	ck_assert_int_eq(ini_check_private("/nonexistent/x", &err), -ENOENT);
}
END_TEST

static const struct ini_kv *load_kv(const char *path, struct ini **c, const char *key)
{
	struct error err;

	ck_assert_msg(ini_load(path, c, &err) == 0, "%s", err.text);
	return ini_get(&(*c)->sections[0], key);
}

START_TEST(test_secret_inline_needs_private_file)
{
	struct ini *c = NULL;
	struct error err;
	char *secret = NULL;
	const char *p = put("s.conf", "[notifier ops]\ntype = slack\nurl = https://h/T0/SECRET42\n",
			    0600);
	const struct ini_kv *kv = load_kv(p, &c, "url");

	ck_assert(kv->file_private);
	ck_assert_int_eq(ini_secret(kv, &secret, &err), 0);
	ck_assert_str_eq(secret, "https://h/T0/SECRET42");
	free(secret);
	ini_free(c);

	ck_assert_int_eq(chmod(p, 0644), 0);
	kv = load_kv(p, &c, "url");
	ck_assert(!kv->file_private);
	secret = NULL;
	ck_assert_int_eq(ini_secret(kv, &secret, &err), -EACCES);
	ck_assert_ptr_null(secret);
	ck_assert_msg(strstr(err.text, "s.conf:3: key 'url': holds an inline secret") != NULL, "%s",
		      err.text);
	ck_assert_msg(strstr(err.text, "chmod 600") != NULL, "%s", err.text);
	ck_assert_msg(strstr(err.text, "SECRET42") == NULL, "secret in error: %s", err.text);
	ini_free(c);
}
END_TEST

START_TEST(test_secret_from_file)
{
	struct ini *c = NULL;
	struct error err;
	char *secret = NULL;
	const char *p;
	const struct ini_kv *kv;

	put("hook.secret", "whsec_abc\nsecond line ignored\n", 0600);
	put("empty.secret", "\n", 0600);
	put("open.secret", "S3CRET-OPEN\n", 0644);
	/* Secrets by reference: the config itself may be world-readable. */
	p = put("f.conf",
		"[notifier h]\nsecret = file:hook.secret\nempty = file:empty.secret\n"
		"open = file:open.secret\nmissing = file:missing.secret\n",
		0644);
	kv = load_kv(p, &c, "secret");
	ck_assert_msg(ini_secret(kv, &secret, &err) == 0, "%s", err.text);
	ck_assert_str_eq(secret, "whsec_abc");
	free(secret);

	ck_assert_int_eq(ini_secret(ini_get(&c->sections[0], "empty"), &secret, &err), -EINVAL);
	ck_assert_msg(strstr(err.text, "f.conf:3: key 'empty': secret file ") &&
			      strstr(err.text, "the first line is empty"),
		      "%s", err.text);
	ck_assert_int_eq(ini_secret(ini_get(&c->sections[0], "open"), &secret, &err), -EACCES);
	ck_assert_msg(strstr(err.text, "f.conf:4: key 'open': secret file ") &&
			      strstr(err.text, "open.secret can be read by group or others"),
		      "%s", err.text);
	ck_assert_msg(strstr(err.text, "S3CRET") == NULL, "%s", err.text);
	ck_assert_int_eq(ini_secret(ini_get(&c->sections[0], "missing"), &secret, &err), -ENOENT);
	ck_assert_msg(strstr(err.text, "f.conf:5: key 'missing'") != NULL, "%s", err.text);
	ini_free(c);
}
END_TEST

START_TEST(test_secret_from_credential)
{
	char dir[PATH_MAX];
	struct ini *c = parse_ok("[notifier h]\nurl = credential:hook_url\nbad = credential:../x\n"
				  "gone = credential:nope\n");
	const struct ini_section *s = &c->sections[0];
	struct error err;
	char *secret = NULL;

	unsetenv("CREDENTIALS_DIRECTORY");
	ck_assert_int_eq(ini_secret(ini_get(s, "url"), &secret, &err), -ENOENT);
	ck_assert_msg(strstr(err.text, "test.conf:2: key 'url': credential 'hook_url': "
					"$CREDENTIALS_DIRECTORY is not set") != NULL,
		      "%s", err.text);

	snprintf(dir, sizeof(dir), "%s/creds", test_dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	put("creds/hook_url", "https://example.invalid/T/B/C\r\n", 0400);
	ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", dir, 1), 0);
	ck_assert_msg(ini_secret(ini_get(s, "url"), &secret, &err) == 0, "%s", err.text);
	ck_assert_str_eq(secret, "https://example.invalid/T/B/C");
	free(secret);
	ck_assert_int_eq(ini_secret(ini_get(s, "bad"), &secret, &err), -EINVAL);
	ck_assert_int_eq(ini_secret(ini_get(s, "gone"), &secret, &err), -ENOENT);
	ck_assert_msg(strstr(err.text, "credential 'nope'") != NULL, "%s", err.text);
	ini_free(c);
}
END_TEST

/* ------------------------------------------------------------ typed values */

START_TEST(test_typed_values)
{
	struct ini *c = parse_ok("[daemon]\nb1 = yes\nb2 = Off\nb3 = maybe\n"
				  "i1 = 42\ni2 = 42x\ni3 = 99999\n"
				  "d1 = 30\nd2 = 1.5s\nd3 = 10m\nd4 = 2h\nd5 = 250ms\nd6 = 1d\n"
				  "d7 = soon\nd8 = 0\nd9 = 5 m\n");
	const struct ini_section *s = &c->sections[0];
	struct error err;
	long long v;
	bool b;

	ck_assert_int_eq(ini_bool(ini_get(s, "b1"), &b, &err), 0);
	ck_assert(b);
	ck_assert_int_eq(ini_bool(ini_get(s, "b2"), &b, &err), 0);
	ck_assert(!b);
	ck_assert_int_eq(ini_bool(ini_get(s, "b3"), &b, &err), -EINVAL);
	ck_assert_str_eq(err.text, "test.conf:4: key 'b3': expected true or false, not 'maybe'");

	ck_assert_int_eq(ini_int(ini_get(s, "i1"), 1, 100, &v, &err), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(ini_int(ini_get(s, "i2"), 1, 100, &v, &err), -EINVAL);
	ck_assert_int_eq(ini_int(ini_get(s, "i3"), 1, 100, &v, &err), -EINVAL);
	ck_assert_str_eq(err.text, "test.conf:7: key 'i3': expected an integer from 1 to 100");

	ck_assert_int_eq(ini_duration_ms(ini_get(s, "d1"), 0, 86400000LL * 7, &v, &err), 0);
	ck_assert_int_eq(v, 30000);
	ck_assert_int_eq(ini_duration_ms(ini_get(s, "d2"), 0, 86400000LL * 7, &v, &err), 0);
	ck_assert_int_eq(v, 1500);
	ck_assert_int_eq(ini_duration_ms(ini_get(s, "d3"), 0, 86400000LL * 7, &v, &err), 0);
	ck_assert_int_eq(v, 600000);
	ck_assert_int_eq(ini_duration_ms(ini_get(s, "d4"), 0, 86400000LL * 7, &v, &err), 0);
	ck_assert_int_eq(v, 7200000);
	ck_assert_int_eq(ini_duration_ms(ini_get(s, "d5"), 0, 86400000LL * 7, &v, &err), 0);
	ck_assert_int_eq(v, 250);
	ck_assert_int_eq(ini_duration_ms(ini_get(s, "d6"), 0, 86400000LL * 7, &v, &err), 0);
	ck_assert_int_eq(v, 86400000);
	ck_assert_int_eq(ini_duration_ms(ini_get(s, "d7"), 0, 86400000LL, &v, &err), -EINVAL);
	ck_assert_msg(strstr(err.text, "test.conf:14: key 'd7': expected a duration") != NULL, "%s",
		      err.text);
	ck_assert_int_eq(ini_duration_ms(ini_get(s, "d8"), 100, 86400000LL, &v, &err), -EINVAL);
	ck_assert_int_eq(ini_duration_ms(ini_get(s, "d9"), 0, 86400000LL, &v, &err), 0);
	ck_assert_int_eq(v, 300000);
	ck_assert_int_eq(ini_duration_ms(ini_get(s, "d4"), 0, 3600000LL, &v, &err), -EINVAL);
	ini_free(c);
}
END_TEST

START_TEST(test_error_helpers)
{
	struct ini *c = parse_ok("\n[notifier ops]\nkey = v\n");
	const struct ini_section *s = &c->sections[0];
	struct error err;

	ck_assert_int_eq(ini_error(ini_get(s, "key"), &err, -EINVAL, "bad %d", 7), -EINVAL);
	ck_assert_str_eq(err.text, "test.conf:3: key 'key': bad 7");
	ck_assert_int_eq(ini_section_error(s, &err, -ENOENT, "needs %s", "url"), -ENOENT);
	ck_assert_str_eq(err.text, "test.conf:2: [notifier ops]: needs url");
	ck_assert_int_eq(err.code, -ENOENT);
	ini_free(c);
}
END_TEST

static Suite *ini_suite(void)
{
	Suite *s = suite_create("ini");
	TCase *tc = tcase_create("ini");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sections_and_values);
	tcase_add_test(tc, test_last_value_wins_and_repeats_are_kept);
	tcase_add_test(tc, test_crlf_bom_and_long_lines);
	tcase_add_test(tc, test_syntax_errors_name_file_and_line);
	tcase_add_test(tc, test_duplicate_sections);
	tcase_add_test(tc, test_include_file_and_directory);
	tcase_add_test(tc, test_include_loop);
	tcase_add_test(tc, test_include_missing_and_duplicates_across_files);
	tcase_add_test(tc, test_check_private);
	tcase_add_test(tc, test_secret_inline_needs_private_file);
	tcase_add_test(tc, test_secret_from_file);
	tcase_add_test(tc, test_secret_from_credential);
	tcase_add_test(tc, test_typed_values);
	tcase_add_test(tc, test_error_helpers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ini_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
