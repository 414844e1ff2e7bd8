/* schemadrift probe: the change probe's catalog fingerprint (what the daemon checks first). */
#include <stdio.h>

#include "cli.h"
#include "live.h"

int cli_cmd_probe(const struct cli *c, int argc, char **argv)
{
	struct live_options opts = {
		.dsn = c->dsn,
		.connect_timeout_ms = c->connect_timeout_ms,
		.catalog = { .probe_only = true },
	};
	struct model *m;
	struct error err;

	(void)argv;
	if (!c->dsn || argc != 0) {
		cli_fail("probe needs --dsn DSN and no other arguments (see --help)");
		return EXIT_TROUBLE;
	}
	if (live_snapshot_run(&opts, &m, &err) < 0) {
		cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	printf("%s\n", m->fingerprint ? m->fingerprint : "");
	model_free(m);
	return fflush(stdout) == 0 ? EXIT_SAME : EXIT_TROUBLE;
}
