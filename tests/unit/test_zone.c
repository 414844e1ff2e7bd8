/* Unit tests for lib/zone.c (TZif zones) and lib/calendar.c, against the system's zone files. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "zone.h"

START_TEST(test_calendar_round_trip)
{
	int64_t y;
	int m, d;

	ck_assert_int_eq(calendar_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(calendar_days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(calendar_days_from_civil(1969, 12, 31), -1);
	calendar_civil_from_days(19782, &y, &m, &d); /* 2024-02-29 */
	ck_assert_int_eq(y, 2024);
	ck_assert_int_eq(m, 2);
	ck_assert_int_eq(d, 29);
	ck_assert_int_eq(calendar_weekday(0), 4); /* a Thursday */
	ck_assert_int_eq(calendar_weekday(-1), 3);
	ck_assert(calendar_is_leap(2000) && !calendar_is_leap(1900) && calendar_is_leap(2024));
	ck_assert_int_eq(calendar_days_in_month(2023, 2), 28);
	ck_assert_int_eq(calendar_floor_div(-1, 86400), -1);
	ck_assert_int_eq(calendar_floor_div(86399, 86400), 0);
}
END_TEST

START_TEST(test_utc_is_built_in)
{
	struct zone z;
	struct error err = { 0 };

	ck_assert_int_eq(zone_load(&z, "UTC", &err), 0);
	ck_assert_str_eq(z.name, "UTC");
	ck_assert_int_eq(zone_offset(&z, 1705320000), 0);
	ck_assert_int_eq(zone_local_to_utc(&z, 1705320000), 1705320000);
	zone_done(&z);
}
END_TEST

START_TEST(test_berlin_offsets_table_and_footer_rule)
{
	struct zone z;
	struct error err = { 0 };

	ck_assert_msg(zone_load(&z, "Europe/Berlin", &err) == 0, "%s", err.text);
	ck_assert_int_eq(zone_offset(&z, 1705320000), 3600); /* 2024-01-15 CET */
	ck_assert_int_eq(zone_offset(&z, 1721044800), 7200); /* 2024-07-15 CEST */
	/* 2100 lies after every table entry: the TZif footer's POSIX rule answers. */
	ck_assert_int_eq(zone_offset(&z, 4102444800), 3600); /* 2100-01-01 */
	ck_assert_int_eq(zone_offset(&z, 4118083200), 7200); /* 2100-07-01 */
	zone_done(&z);
	ck_assert_ptr_null(z.name);
}
END_TEST

START_TEST(test_berlin_gap_and_overlap)
{
	struct zone z;
	struct error err = { 0 };

	ck_assert_int_eq(zone_load(&z, "Europe/Berlin", &err), 0);
	/* 2024-03-31 02:30 does not occur in Berlin: the first instant after the gap, 01:00Z. */
	ck_assert_int_eq(zone_local_to_utc(&z, 1711852200), 1711846800);
	/* 2024-10-27 02:30 occurs twice: the first time, 00:30Z (still CEST). */
	ck_assert_int_eq(zone_local_to_utc(&z, 1729996200), 1729989000);
	/* An ordinary local time: noon CET is 11:00Z. */
	ck_assert_int_eq(zone_local_to_utc(&z, 1705320000), 1705320000 - 3600);
	zone_done(&z);
}
END_TEST

START_TEST(test_names_and_files_refused)
{
	struct zone z;
	struct error err = { 0 };

	ck_assert_int_eq(zone_name_check("Europe/Berlin", &err), 0);
	ck_assert_int_eq(zone_name_check("../etc/passwd", &err), -EINVAL);
	ck_assert_int_eq(zone_name_check("/usr/share/zoneinfo/UTC", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.text, "relative to " ZONE_INFO_DIR));
	ck_assert_int_eq(zone_load(&z, "Mars/Olympus", &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.text, "unknown"));
	ck_assert_ptr_null(z.name);
	ck_assert_int_eq(zone_load(&z, "Europe", &err), -EINVAL); /* a directory */
	ck_assert_ptr_nonnull(strstr(err.text, "not a zone file"));
}
END_TEST

static Suite *zone_suite(void)
{
	Suite *s = suite_create("zone");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_calendar_round_trip);
	tcase_add_test(tc, test_utc_is_built_in);
	tcase_add_test(tc, test_berlin_offsets_table_and_footer_rule);
	tcase_add_test(tc, test_berlin_gap_and_overlap);
	tcase_add_test(tc, test_names_and_files_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(zone_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
