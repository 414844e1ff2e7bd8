/* Unit tests for lib/recorder.c: matching a change to the DDL recorder's rows, and its lines. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recorder.h"

#define EVENT(i, when, ident) \
	{ .id = (i), .at = (when), .session_role = "r" #i, .object_identity = (ident) }

static const struct model_ddl_event events[] = {
	/* newest first, as the catalog reads them */
	EVENT(9, "2026-12-03T12:09:00Z", "public.\"primary\""),
	EVENT(8, "2026-12-03T12:08:00Z", "\"My Schema\".\"a.b\".\"c \"\"q\"\"\""),
	EVENT(7, "2026-12-03T12:07:00Z", "orders_pkey on public.orders"),
	EVENT(6, "2026-12-03T12:06:00Z", "public.f(integer, text)"),
	EVENT(5, "2026-12-03T12:05:00Z", "public.orders"),
	EVENT(4, "2026-12-03T12:04:00Z", "public.orders_idx"),
	EVENT(3, "2026-12-03T12:03:00Z", "public.orders.total"),
	EVENT(2, "2026-12-03T12:02:00Z", "public.renamed"),
	EVENT(1, "2026-12-01T00:00:00Z", "public.old_news"),
	EVENT(0, "2026-12-03T12:00:00Z", NULL),
};

static const struct model_recorder rec = {
	.schema = "schemadrift", .ddl_trigger = "origin", .drop_trigger = "origin",
	.readable = true, .events = (struct model_ddl_event *)events,
	.n_events = sizeof(events) / sizeof(events[0]),
};

static long long match(enum model_kind kind, const char *schema, const char *parent,
		       const char *name, const char *since)
{
	struct model_object o = { .kind = kind, .schema = schema, .parent = parent, .name = name };
	const struct model_ddl_event *e = recorder_match(&rec, NULL, &o, since);

	return e ? e->id : -1;
}

START_TEST(test_identities)
{
	/* a reserved word, quoted by the server, not by a guess of ours */
	ck_assert_int_eq(match(MODEL_TABLE, "public", NULL, "primary", NULL), 9);
	/* dots, spaces and doubled quotes inside quoted parts */
	ck_assert_int_eq(match(MODEL_COLUMN, "My Schema", "a.b", "c \"q\"", NULL), 8);
	ck_assert_int_eq(match(MODEL_CONSTRAINT, "public", "orders", "orders_pkey", NULL), 7);
	ck_assert_int_eq(match(MODEL_FUNCTION, "public", NULL, "f", NULL), 6);
	ck_assert_int_eq(match(MODEL_INDEX, "public", "orders", "orders_idx", NULL), 4);
	ck_assert_int_eq(match(MODEL_COLUMN, "public", "orders", "total", NULL), 3);
	/* the object's own row wins over its table's newer one */
	ck_assert_int_eq(match(MODEL_COLUMN, "public", "orders", "total", NULL), 3);
	/* no row of its own: its table's */
	ck_assert_int_eq(match(MODEL_COLUMN, "public", "orders", "note", NULL), 5);
	ck_assert_int_eq(match(MODEL_TRIGGER, "public", "orders", "audit", NULL), 5);
	/* a table is not its namesake function, nor a constraint's table */
	ck_assert_int_eq(match(MODEL_TABLE, "public", NULL, "f", NULL), -1);
	ck_assert_int_eq(match(MODEL_FUNCTION, "public", NULL, "orders", NULL), -1);
	ck_assert_int_eq(match(MODEL_TABLE, "public", NULL, "orders_pkey", NULL), -1);
	/* rows older than the `from` side do not explain the change */
	ck_assert_int_eq(match(MODEL_TABLE, "public", NULL, "old_news", NULL), 1);
	ck_assert_int_eq(match(MODEL_TABLE, "public", NULL, "old_news", "2026-12-03T00:00:00Z"), -1);
	/* the daemon's clock ahead of the server's by less than the margin: still attributed */
	ck_assert_int_eq(match(MODEL_TABLE, "public", NULL, "primary", "2026-12-03T12:13:59Z"), 9);
	ck_assert_int_eq(match(MODEL_TABLE, "public", NULL, "primary", "2026-12-03T12:14:00Z"), 9);
	ck_assert_int_eq(match(MODEL_TABLE, "public", NULL, "primary", "2026-12-03T12:14:01Z"), -1);
	/* a day boundary */
	ck_assert_int_eq(match(MODEL_TABLE, "public", NULL, "old_news", "2026-12-01T00:04:00Z"), 1);
	ck_assert_int_eq(match(MODEL_TABLE, "public", NULL, "old_news", "2026-12-01T00:05:01Z"), -1);
	ck_assert_int_eq(match(MODEL_TABLE, "public", NULL, "nothing", NULL), -1);
	ck_assert_int_eq(match(MODEL_DEFAULT_PRIVILEGES, NULL, NULL, "x", NULL), -1);
	ck_assert_ptr_null(recorder_match(NULL, NULL, NULL, NULL));
}
END_TEST

START_TEST(test_who_text)
{
	struct model_ddl_event e = {
		.at = "2026-12-03T12:00:00Z", .session_role = "alice", .current_role = "owner",
		.client_addr = "10.0.0.5", .application = "deploy",
		.statement = "  ALTER TABLE t\n\tADD COLUMN \x1b[31m x int  ",
		.command_tag = "ALTER TABLE",
	};
	char *t = recorder_who_text(&e, 300);

	ck_assert_str_eq(t, "by alice as owner from 10.0.0.5 (deploy) at 2026-12-03T12:00:00Z: "
			    "ALTER TABLE t ADD COLUMN \\x1b[31m x int");
	free(t);
	t = recorder_who_text(&e, 13);
	ck_assert_str_eq(t, "by alice as owner from 10.0.0.5 (deploy) at 2026-12-03T12:00:00Z: "
			    "ALTER TABLE t…");
	free(t);
	e.statement = NULL;
	e.client_addr = NULL;
	e.application = "";
	e.current_role = "alice";
	t = recorder_who_text(&e, 300);
	ck_assert_str_eq(t, "by alice from the local socket at 2026-12-03T12:00:00Z: "
			    "ALTER TABLE (statement not recorded)");
	free(t);
}
END_TEST

START_TEST(test_problems)
{
	struct model_recorder r = rec;

	ck_assert_ptr_null(recorder_problem(&r));
	ck_assert_ptr_null(recorder_problem(NULL));
	r.ddl_trigger = "always";
	ck_assert_ptr_null(recorder_problem(&r));
	r.drop_trigger = "disabled";
	ck_assert_ptr_nonnull(strstr(recorder_problem(&r), "is disabled"));
	r.drop_trigger = "replica";
	ck_assert_ptr_nonnull(strstr(recorder_problem(&r), "is disabled"));
	r.drop_trigger = NULL;
	ck_assert_ptr_nonnull(strstr(recorder_problem(&r), "missing"));
	r.drop_trigger = "origin";
	r.readable = false;
	ck_assert_ptr_nonnull(strstr(recorder_problem(&r), "cannot be read"));
}
END_TEST

/* Both are pasted into $recorder$-quoted bodies: refused before any server is asked. */
START_TEST(test_install_refuses_dollar)
{
	struct recorder_install_options o = { .schema = "x$recorder$; DROP TABLE t; --",
					      .statement_length = 10 };
	struct error err;

	ck_assert_int_eq(recorder_install(NULL, &o, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.text, "cannot hold '$'"));
	o.schema = "audit";
	o.retention = "1 day$recorder$";
	ck_assert_int_eq(recorder_install(NULL, &o, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.text, "retention '1 day$recorder$' cannot hold '$'"));
}
END_TEST

static Suite *recorder_suite(void)
{
	Suite *s = suite_create("recorder");
	TCase *tc = tcase_create("attribution");

	tcase_add_test(tc, test_identities);
	tcase_add_test(tc, test_who_text);
	tcase_add_test(tc, test_problems);
	tcase_add_test(tc, test_install_refuses_dollar);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(recorder_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
