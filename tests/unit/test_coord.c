/* Unit tests for lib/coord.c's rendezvous choice: stable, spread, and minimal moves. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"

#define N_TARGETS 3000

static char targets[N_TARGETS][16];

static void make_targets(void)
{
	for (int i = 0; i < N_TARGETS; i++)
		snprintf(targets[i], sizeof(targets[i]), "db%d", i);
}

START_TEST(no_nodes_no_owner)
{
	ck_assert_int_eq(coord_rendezvous(NULL, 0, "db1"), -1);
}
END_TEST

START_TEST(the_order_of_nodes_does_not_matter)
{
	char *a[] = { "n1", "n2", "n3" }, *b[] = { "n3", "n1", "n2" };

	make_targets();
	for (int i = 0; i < N_TARGETS; i++)
		ck_assert_str_eq(a[coord_rendezvous(a, 3, targets[i])],
				 b[coord_rendezvous(b, 3, targets[i])]);
}
END_TEST

/* Names that differ in one character (n1, n2, n3) still get even shares. */
START_TEST(targets_spread_evenly)
{
	char *nodes[] = { "n1", "n2", "n3" };
	int count[3] = { 0 };

	make_targets();
	for (int i = 0; i < N_TARGETS; i++)
		count[coord_rendezvous(nodes, 3, targets[i])]++;
	for (int k = 0; k < 3; k++)
		ck_assert_msg(count[k] > N_TARGETS / 3 * 8 / 10 &&
				      count[k] < N_TARGETS / 3 * 12 / 10,
			      "node %s got %d of %d targets", nodes[k], count[k], N_TARGETS);
}
END_TEST

/* A node joining takes only targets for itself; one leaving gives only its own away. */
START_TEST(a_join_or_a_leave_moves_only_what_it_must)
{
	char *two[] = { "n1", "n2" }, *three[] = { "n1", "n2", "n3" };
	int moved = 0;

	make_targets();
	for (int i = 0; i < N_TARGETS; i++) {
		const char *before = two[coord_rendezvous(two, 2, targets[i])];
		const char *after = three[coord_rendezvous(three, 3, targets[i])];

		if (strcmp(before, after) != 0) {
			ck_assert_str_eq(after, "n3");
			moved++;
		}
	}
	ck_assert_int_gt(moved, N_TARGETS / 3 * 8 / 10);
	ck_assert_int_lt(moved, N_TARGETS / 3 * 12 / 10);
}
END_TEST

static Suite *coord_suite(void)
{
	Suite *s = suite_create("coord");
	TCase *tc = tcase_create("rendezvous");

	tcase_add_test(tc, no_nodes_no_owner);
	tcase_add_test(tc, the_order_of_nodes_does_not_matter);
	tcase_add_test(tc, targets_spread_evenly);
	tcase_add_test(tc, a_join_or_a_leave_moves_only_what_it_must);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(coord_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
