/* schemadrift CLI: shared state and helpers of the command files (cli_*.c). */
#ifndef SCHEMADRIFT_CLI_H
#define SCHEMADRIFT_CLI_H

#include "filter.h"
#include "model.h"

/* Exit statuses, as diff(1). */
enum { EXIT_SAME = 0, EXIT_DIFFERENT = 1, EXIT_TROUBLE = 2 };

/* Options, parsed once in cli.c for every command. */
struct cli {
	const char *dsn;
	const char *output;
	const char *format;
	const char *color;
	int connect_timeout_ms;
	struct filter filter;  /* --include/--exclude/--ignore... */
	bool partitions_full;  /* --partitions full */
};

/* Prints "schemadrift: <message>" on stderr. */
void cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A live side's DSN ("postgresql://...", "dsn:..."), or NULL for a file. */
const char *cli_side_dsn(const char *side);
/* Snapshot of a live database, or of a side (file or live); reports errors. */
int cli_take_live(const struct cli *c, const char *dsn, struct model **ret);
int cli_load_side(const struct cli *c, const char *side, struct model **ret);

int cli_cmd_snapshot(const struct cli *c, int argc, char **argv);
int cli_cmd_hash(const struct cli *c, int argc, char **argv);
int cli_cmd_diff(const struct cli *c, int argc, char **argv);
int cli_cmd_kinds(const struct cli *c, int argc, char **argv);

#endif
