/* schemadrift diff: what changed between two sides (files or live databases). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "diff.h"
#include "live.h"
#include "snapshot.h"

/* How a side is named in output: a DSN is described, never echoed (passwords). */
static void side_label(const char *side, char *buf, size_t size)
{
	const char *dsn = cli_side_dsn(side);

	if (dsn)
		live_describe_dsn(dsn, buf, size);
	else
		snprintf(buf, size, "%s", side);
}

/* The target a TARGET@REF side names (the commands that resolve drift name it), or NULL. */
static const char *side_target(const char *a, const char *b, char *buf, size_t size)
{
	const char *side = cli_is_store_ref(b) ? b : cli_is_store_ref(a) ? a : NULL;

	if (!side)
		return NULL;
	snprintf(buf, size, "%.*s", (int)(strchr(side, '@') - side), side);
	return buf;
}

/* A plain snapshot file (not live, not TARGET@REF, not stdin) read as it is. */
static bool plain_file(const struct cli *c, const char *side)
{
	return !cli_side_dsn(side) && !cli_is_store_ref(side) && strcmp(side, "-") != 0 &&
	       filter_is_empty(&c->filter);
}

/*
 * Two plain files: only what differs is built (snapshot_load_differing).
 * Sets both models, or neither when the sides must be loaded whole; -1 on
 * an error it reported.
 */
static int cli_load_files_differing(const struct cli *c, const char *a, const char *b,
				    struct model **ret_a, struct model **ret_b)
{
	struct error err;
	int r;

	*ret_a = *ret_b = NULL;
	if (!plain_file(c, a) || !plain_file(c, b))
		return 0;
	r = snapshot_load_differing(a, b, ret_a, ret_b, &err);
	if (r == -EAGAIN)
		return 0;
	if (r < 0) {
		cli_fail("%s", err.text);
		return -1;
	}
	return 0;
}

int cli_cmd_diff(const struct cli *c, int argc, char **argv)
{
	struct model *a = NULL, *b = NULL;
	struct diff *d = NULL;
	void *acks = NULL;
	bool json, sql;
	char target[256];
	int status = EXIT_TROUBLE;

	if (argc != 2) {
		cli_fail("diff needs two sides, A and B (see --help)");
		return EXIT_TROUBLE;
	}
	if (strcmp(argv[0], "-") == 0 && strcmp(argv[1], "-") == 0) {
		cli_fail("diff: only one side may be '-' (standard input can be read once)");
		return EXIT_TROUBLE;
	}
	json = c->format && strcmp(c->format, "json") == 0;
	sql = c->format && strcmp(c->format, "sql") == 0;
	if (c->format && !json && !sql && strcmp(c->format, "text") != 0) {
		cli_fail("unknown --format '%s' (text, json or sql)", c->format);
		return EXIT_TROUBLE;
	}
	if (cli_load_files_differing(c, argv[0], argv[1], &a, &b) < 0)
		goto out;
	if ((!a && cli_load_side(c, argv[0], &a) < 0) || (!b && cli_load_side(c, argv[1], &b) < 0))
		goto out;
	if (diff_models(a, b, &d) < 0) {
		cli_fail("out of memory while comparing");
		goto out;
	}
	cli_store_acknowledge(c, argv[0], argv[1], d, &acks); /* TARGET@REF sides */
	if (json) {
		char la[512], lb[512];
		json_t *j;

		side_label(argv[0], la, sizeof(la));
		side_label(argv[1], lb, sizeof(lb));
		j = diff_to_json(d, la, lb);
		if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
			json_decref(j);
			cli_fail("cannot write the diff");
			goto out;
		}
		json_decref(j);
		fputc('\n', stdout);
	} else if (sql) {
		if (diff_write_sql(d, stdout, false) < 0) {
			cli_fail("cannot write the diff");
			goto out;
		}
	} else {
		bool color = c->color ? strcmp(c->color, "always") == 0
				      : isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
		if (c->color && strcmp(c->color, "auto") == 0)
			color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
		if (diff_write_text(d, stdout, (color ? DIFF_TEXT_COLOR : 0) | DIFF_TEXT_EXPLAIN,
				    side_target(argv[0], argv[1], target, sizeof(target))) < 0) {
			cli_fail("cannot write the diff");
			goto out;
		}
	}
	if (fflush(stdout) != 0) {
		cli_fail("cannot write the diff: %s", strerror(errno));
		goto out;
	}
	status = d->n_changes > d->n_acknowledged ? EXIT_DIFFERENT : EXIT_SAME;
out:
	diff_free(d);
	cli_store_acknowledge_done(acks);
	model_free(a);
	model_free(b);
	return status;
}

