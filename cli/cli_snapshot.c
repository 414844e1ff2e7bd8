/* schemadrift snapshot and hash: the schema of a live database, as JSON or a hash. */
#include <stdio.h>

#include "cli.h"
#include "snapshot.h"

int cli_cmd_snapshot(const struct cli *c, int argc, char **argv)
{
	struct model *m;
	struct error err;
	int r;

	if (c->target)
		return cli_store_snapshot(c, argc, argv);
	if (!c->dsn || argc != 0) {
		cli_fail("snapshot needs --dsn DSN and no other arguments (see --help)");
		return EXIT_TROUBLE;
	}
	(void)argv;
	if (cli_take_live(c, c->dsn, &m) < 0)
		return EXIT_TROUBLE;
	r = snapshot_save(m, c->output ? c->output : "-", &err);
	model_free(m);
	if (r < 0) {
		cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	return EXIT_SAME;
}

int cli_cmd_hash(const struct cli *c, int argc, char **argv)
{
	struct model *m;
	char hex[65];

	if ((c->dsn != NULL) == (argc == 1) || argc > 1) {
		cli_fail("hash needs either --dsn DSN or one snapshot FILE (see --help)");
		return EXIT_TROUBLE;
	}
	/* A plain file is hashed as it streams by: every object checked, no model built. */
	if (!c->dsn && !cli_side_dsn(argv[0]) && !cli_is_store_ref(argv[0]) &&
	    filter_is_empty(&c->filter)) {
		unsigned char hash[32];
		struct error err;

		if (snapshot_file_hash(argv[0], hash, &err) < 0) {
			cli_fail("%s", err.text);
			return EXIT_TROUBLE;
		}
		snapshot_hash_hex(hash, hex);
	} else {
		if (c->dsn ? cli_take_live(c, c->dsn, &m) < 0 : cli_load_side(c, argv[0], &m) < 0)
			return EXIT_TROUBLE;
		snapshot_hash_hex(m->hash, hex);
		model_free(m);
	}
	printf("%s\n", hex);
	return fflush(stdout) == 0 ? EXIT_SAME : EXIT_TROUBLE;
}

