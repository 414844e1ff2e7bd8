/* schemadrift report: the history of a target, or of the fleet, as one static HTML page. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "fileio.h"
#include "report.h"

static void report_warn(const char *message, void *data)
{
	(void)data;
	fprintf(stderr, "schemadrift: warning: %s\n", message);
}

static bool is_dir(const char *path)
{
	struct stat st;
	size_t n = strlen(path);

	return (n && path[n - 1] == '/') || (stat(path, &st) == 0 && S_ISDIR(st.st_mode));
}

int cli_cmd_report(const struct cli *c, int argc, char **argv)
{
	struct store_options so;
	struct report_options o = { .warn = report_warn };
	const char *out = c->output ? c->output : "-";
	struct fileio_atomic f;
	struct error err;
	int r;

	if (c->all ? argc != 0 : argc != 1) {
		cli_fail("usage: schemadrift report TARGET [--since TIME] [-o FILE.html] | "
			 "report --all [-o FILE.html|DIR/]");
		return EXIT_TROUBLE;
	}
	if (cli_store_options(c, &so) < 0)
		return EXIT_TROUBLE;
	o.state_dir = so.state_dir;
	o.central = so.central;
	if (c->since && store_parse_time(c->since, &o.since, NULL) < 0) {
		cli_fail("--since '%s': expected a date or time (2026-11-20, 2026-11-20T06:00Z)",
			 c->since);
		return EXIT_TROUBLE;
	}
	if (!c->all && !store_target_valid(argv[0])) {
		cli_fail("'%s' is not a valid target name", argv[0]);
		return EXIT_TROUBLE;
	}
	/* --all into a directory: the daemon's layout (index.html and a page per target). */
	if (c->all && strcmp(out, "-") != 0 && is_dir(out)) {
		r = report_write_dir(&o, out, &err);
		if (r < 0) {
			cli_fail("%s", err.text);
			return EXIT_TROUBLE;
		}
		return EXIT_SAME;
	}
	if (fileio_atomic_open(&f, out, &err) < 0) {
		cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	if (f.tmp_path) /* a page to share, not a secret: not the temporary file's 0600 */
		fchmod(fileno(f.stream), 0644);
	r = c->all ? report_write_fleet(&o, f.stream, &err)
		   : report_write_target(&o, argv[0], f.stream, &err);
	if (r < 0) {
		fileio_atomic_abort(&f);
		cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	if (fileio_atomic_commit(&f, &err) < 0) {
		cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	return EXIT_SAME;
}
