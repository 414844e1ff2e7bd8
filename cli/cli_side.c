/* The sides a command compares or prints: a snapshot file, a live database, or TARGET@REF. */
#include <string.h>

#include "cli.h"
#include "live.h"
#include "snapshot.h"

/* A live side's DSN, or NULL when the side is a file. */
const char *cli_side_dsn(const char *side)
{
	if (strncmp(side, "postgresql://", 13) == 0 || strncmp(side, "postgres://", 11) == 0)
		return side;
	if (strncmp(side, "dsn:", 4) == 0)
		return side + 4;
	return NULL;
}

int cli_take_live(const struct cli *c, const char *dsn, struct model **ret)
{
	struct live_options opts = {
		.dsn = dsn,
		.connect_timeout_ms = c->connect_timeout_ms,
		.catalog = { .partitions_full = c->partitions_full },
		.filter = &c->filter,
	};
	struct error err;

	if (live_snapshot_run(&opts, ret, &err) < 0) {
		cli_fail("%s", err.text);
		return -1;
	}
	return 0;
}

int cli_load_side(const struct cli *c, const char *side, struct model **ret)
{
	const char *dsn = cli_side_dsn(side);
	struct error err;

	if (dsn)
		return cli_take_live(c, dsn, ret);
	if (cli_is_store_ref(side)) { /* TARGET@REF; a file of that name: ./TARGET@REF */
		if (cli_load_store_side(c, side, ret) < 0)
			return -1;
	} else if (snapshot_load(side, ret, &err) < 0) {
		cli_fail("%s", err.text);
		return -1;
	}
	/* A file or a stored snapshot holds everything it was taken with: filter
	 * it the same way a live side is filtered, then hash again. */
	if (!filter_is_empty(&c->filter) &&
	    (filter_apply(*ret, &c->filter) < 0 || snapshot_hash(*ret) < 0)) {
		cli_fail("%s: out of memory while filtering", side);
		model_free(*ret);
		return -1;
	}
	return 0;
}
