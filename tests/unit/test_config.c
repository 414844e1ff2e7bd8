/* Unit tests for lib/config.c: value checks by type, HOST:PORT, the key table dump, restart-only keys. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* Parses text as "test.conf"; returns the config or NULL with err filled. */
static struct config *parse(const char *text, struct error *err)
{
	struct ini *raw = NULL;
	struct config *c = NULL;

	if (ini_parse(text, strlen(text), "test.conf", &raw, err) < 0)
		return NULL;
	if (config_from_conf(raw, &c, err) < 0)
		return NULL;
	return c;
}

/* text must be refused, naming test.conf:line and the key. */
static void assert_refused(const char *text, int line, const char *key)
{
	struct error err;
	struct config *c = parse(text, &err);
	char where[32], quoted[64];

	ck_assert_msg(c == NULL, "accepted: %s", text);
	snprintf(where, sizeof(where), "test.conf:%d:", line);
	snprintf(quoted, sizeof(quoted), "'%s'", key);
	ck_assert_msg(strstr(err.text, where) && strstr(err.text, quoted), "%s", err.text);
}

START_TEST(test_listen_split)
{
	struct error err;
	char *host = NULL;
	unsigned short port = 0;

	ck_assert_int_eq(config_listen_split("127.0.0.1:9187", &host, &port, &err), 0);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_uint_eq(port, 9187);
	free(host);
	ck_assert_int_eq(config_listen_split("[::1]:80", &host, &port, &err), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_uint_eq(port, 80);
	free(host);
	ck_assert_int_eq(config_listen_split("localhost:65535", &host, &port, &err), 0);
	free(host);
	static const char *const bad[] = { "127.0.0.1", ":9187", "127.0.0.1:", "127.0.0.1:0",
					   "127.0.0.1:65536", "127.0.0.1:91x", "[]:80", "h:-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(config_listen_split(bad[i], &host, &port, &err) < 0, "%s", bad[i]);
}
END_TEST

START_TEST(test_values_checked_by_type)
{
	assert_refused("[daemon]\nmetrics_listen = 127.0.0.1\n", 2, "metrics_listen");
	assert_refused("[daemon]\nstate_dir = var/lib\n", 2, "state_dir");
	assert_refused("[daemon]\nschedule = every banana\n", 2, "schedule");
	assert_refused("[daemon]\ntimezone = Mars/Olympus\n", 2, "timezone");
	assert_refused("[target a]\ndsn = host=db port\n", 2, "dsn");
	assert_refused("[target a]\ndsn = dbname=a\nlink_template = ftp://x/{nope}\n", 3,
		       "link_template");
	assert_refused("[target a]\ndsn = dbname=a\nlink_template = https://x/{nope}\n", 3,
		       "link_template");
	assert_refused("[target a]\ndsn = dbname=a\nenvironment =\n", 3, "environment");
	assert_refused("[target a]\ndsn = dbname=a\nschedule = 61 * * * *\n", 3, "schedule");
	assert_refused("[target a]\ndsn = dbname=a\nexclude_objects = a,,b\n", 3,
		       "exclude_objects");
}
END_TEST

START_TEST(test_password_in_dsn_is_not_echoed)
{
	struct error err;

	assert_refused("[target a]\ndsn = host=db password=hunter22\n", 2, "dsn");
	assert_refused("[target a]\ndsn = postgresql://u:hunter22@db/app\n", 2, "dsn");
	/* A malformed DSN holding a password: libpq's reason would quote it. */
	ck_assert_ptr_null(parse("[target a]\ndsn = host=db password='hunter22\n", &err));
	ck_assert_ptr_null(strstr(err.text, "hunter22"));
}
END_TEST

START_TEST(test_valid_values)
{
	struct error err;
	struct config *c = parse("[daemon]\nmetrics_listen = [::1]:9187\nstate_dir = /x\n"
				 "schedule = */5 * * * *\ntimezone = UTC\n"
				 "[target a]\ndsn = postgresql://db/app?sslmode=require\n"
				 "link_template = https://ci/{target}/{to_hash}\n"
				 "include_objects = public.*\n",
				 &err);

	ck_assert_msg(c != NULL, "%s", err.text);
	ck_assert_str_eq(c->daemon.metrics_listen, "[::1]:9187");
	ck_assert_uint_eq(c->targets[0].n_include, 1);
	ck_assert_str_eq(c->targets[0].include[0], "public.*");
	config_free(c);
}
END_TEST

START_TEST(test_write_keys)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_int_eq(config_write_keys(f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "# section\tkey\ttype\t"));
	ck_assert_ptr_nonnull(strstr(buf, "\ndaemon\tmetrics_listen\tlisten\t\t0\t0\t\trestart\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\ndaemon\tlog_level\tenum\tinfo\t0\t0\t"
					  "error,warning,notice,info,debug\treload\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\ntarget\tdsn\tdsn\t"));
	free(buf);
}
END_TEST

struct seen {
	char keys[8][64];
	int lines[8];
	int n;
};

static void on_restart(const char *section, const char *name, const char *key,
		       const struct ini_kv *where, void *arg)
{
	struct seen *s = arg;

	(void)name;
	ck_assert_int_lt(s->n, 8);
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s.%s", section, key);
	s->lines[s->n++] = where ? where->line : 0;
}

START_TEST(test_keep_restart_only)
{
	struct error err;
	struct config *running = parse("[daemon]\nstate_dir = /a\nmetrics_listen = 127.0.0.1:1\n"
				       "max_concurrent = 2\n", &err);
	struct config *loaded = parse("[daemon]\nmax_concurrent = 3\nstate_dir = /b\n", &err);
	struct seen seen = { 0 };

	ck_assert_ptr_nonnull(running);
	ck_assert_ptr_nonnull(loaded);
	ck_assert_int_eq(config_keep_restart_only(loaded, running, on_restart, &seen), 0);
	ck_assert_int_eq(seen.n, 2);
	ck_assert_str_eq(seen.keys[0], "daemon.state_dir");
	ck_assert_int_eq(seen.lines[0], 3);
	ck_assert_str_eq(seen.keys[1], "daemon.metrics_listen");
	ck_assert_int_eq(seen.lines[1], 0); /* back to its default: no line */
	/* The loaded configuration goes on with the running values... */
	ck_assert_str_eq(loaded->daemon.state_dir, "/a");
	ck_assert_str_eq(loaded->daemon.metrics_listen, "127.0.0.1:1");
	/* ... and takes the reloadable ones; the running configuration is untouched. */
	ck_assert_int_eq(loaded->daemon.max_concurrent, 3);
	ck_assert_str_eq(running->daemon.state_dir, "/a");
	ck_assert_int_eq(running->daemon.max_concurrent, 2);
	config_free(running);
	config_free(loaded);
	/* Nothing changed: nothing to say. */
	running = parse("[daemon]\nstate_dir = /a\n[target t]\ndsn = dbname=t\n", &err);
	loaded = parse("[daemon]\nstate_dir = /a\n[target t]\ndsn = dbname=u\n", &err);
	seen.n = 0;
	ck_assert_int_eq(config_keep_restart_only(loaded, running, on_restart, &seen), 0);
	ck_assert_int_eq(seen.n, 0);
	ck_assert_str_eq(loaded->targets[0].dsn, "dbname=u");
	config_free(running);
	config_free(loaded);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_listen_split);
	tcase_add_test(tc, test_values_checked_by_type);
	tcase_add_test(tc, test_password_in_dsn_is_not_echoed);
	tcase_add_test(tc, test_valid_values);
	tcase_add_test(tc, test_write_keys);
	tcase_add_test(tc, test_keep_restart_only);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
