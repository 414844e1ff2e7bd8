/* schemadrift: the command-line tool (snapshot, hash, diff). */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"
#include "live.h"
#include "snapshot.h"
#include "version.h"

/* Exit statuses, as diff(1). */
enum { EXIT_SAME = 0, EXIT_DIFFERENT = 1, EXIT_TROUBLE = 2 };

static const char usage_text[] =
	"Usage: schemadrift COMMAND [OPTIONS]\n"
	"\n"
	"Commands:\n"
	"  snapshot --dsn DSN [-o FILE]     write the schema of a live database as JSON\n"
	"  hash (--dsn DSN | FILE)          print the schema's SHA-256 hash\n"
	"  diff A B [--format text|json]    show what changed from A to B\n"
	"\n"
	"A side of diff (A or B) is one of:\n"
	"  FILE                             a snapshot file written by `schemadrift snapshot`\n"
	"  -                                a snapshot on standard input\n"
	"  postgresql://... or postgres://... a live database, as a libpq URI\n"
	"  dsn:CONNINFO                     a live database, as a libpq connection string,\n"
	"                                   e.g. dsn:service=prod or 'dsn:host=db1 dbname=app'\n"
	"\n"
	"DSN is any libpq connection string or URI (service= works). Put passwords in\n"
	"~/.pgpass or PGPASSFILE, not on the command line.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE    write the snapshot to FILE atomically (default: stdout)\n"
	"      --format FORMAT  diff output: text (default) or json\n"
	"      --color WHEN     colour text output: auto (default, only on a terminal),\n"
	"                       always or never\n"
	"      --connect-timeout SECONDS   give up connecting after this long (default 10)\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show the version\n"
	"\n"
	"Exit status: 0 same, 1 different (diff), 2 trouble.\n";

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("schemadrift: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct cli {
	const char *dsn;
	const char *output;
	const char *format;
	const char *color;
	int connect_timeout_ms;
};

/* A live side's DSN, or NULL when the side is a file. */
static const char *side_dsn(const char *side)
{
	if (strncmp(side, "postgresql://", 13) == 0 || strncmp(side, "postgres://", 11) == 0)
		return side;
	if (strncmp(side, "dsn:", 4) == 0)
		return side + 4;
	return NULL;
}

static int take_live(const struct cli *c, const char *dsn, struct model **ret)
{
	struct live_options opts = { .dsn = dsn, .connect_timeout_ms = c->connect_timeout_ms };
	struct error err;

	if (live_snapshot_run(&opts, ret, &err) < 0) {
		fail("%s", err.text);
		return -1;
	}
	return 0;
}

static int load_side(const struct cli *c, const char *side, struct model **ret)
{
	const char *dsn = side_dsn(side);
	struct error err;

	if (dsn)
		return take_live(c, dsn, ret);
	if (snapshot_load(side, ret, &err) < 0) {
		fail("%s", err.text);
		return -1;
	}
	return 0;
}

static int cmd_snapshot(const struct cli *c, int argc, char **argv)
{
	struct model *m;
	struct error err;
	int r;

	if (!c->dsn || argc != 0) {
		fail("snapshot needs --dsn DSN and no other arguments (see --help)");
		return EXIT_TROUBLE;
	}
	(void)argv;
	if (take_live(c, c->dsn, &m) < 0)
		return EXIT_TROUBLE;
	r = snapshot_save(m, c->output ? c->output : "-", &err);
	model_free(m);
	if (r < 0) {
		fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	return EXIT_SAME;
}

static int cmd_hash(const struct cli *c, int argc, char **argv)
{
	struct model *m;
	char hex[65];

	if ((c->dsn != NULL) == (argc == 1) || argc > 1) {
		fail("hash needs either --dsn DSN or one snapshot FILE (see --help)");
		return EXIT_TROUBLE;
	}
	if (c->dsn ? take_live(c, c->dsn, &m) < 0 : load_side(c, argv[0], &m) < 0)
		return EXIT_TROUBLE;
	snapshot_hash_hex(m->hash, hex);
	printf("%s\n", hex);
	model_free(m);
	return fflush(stdout) == 0 ? EXIT_SAME : EXIT_TROUBLE;
}

/* How a side is named in output: a DSN is described, never echoed (passwords). */
static void side_label(const char *side, char *buf, size_t size)
{
	const char *dsn = side_dsn(side);

	if (dsn)
		live_describe_dsn(dsn, buf, size);
	else
		snprintf(buf, size, "%s", side);
}

static int cmd_diff(const struct cli *c, int argc, char **argv)
{
	struct model *a = NULL, *b = NULL;
	struct diff *d = NULL;
	bool json;
	int status = EXIT_TROUBLE;

	if (argc != 2) {
		fail("diff needs two sides, A and B (see --help)");
		return EXIT_TROUBLE;
	}
	json = c->format && strcmp(c->format, "json") == 0;
	if (c->format && !json && strcmp(c->format, "text") != 0) {
		fail("unknown --format '%s' (text or json)", c->format);
		return EXIT_TROUBLE;
	}
	if (load_side(c, argv[0], &a) < 0 || load_side(c, argv[1], &b) < 0)
		goto out;
	if (diff_models(a, b, &d) < 0) {
		fail("out of memory while comparing");
		goto out;
	}
	if (json) {
		char la[512], lb[512];
		json_t *j;

		side_label(argv[0], la, sizeof(la));
		side_label(argv[1], lb, sizeof(lb));
		j = diff_to_json(d, la, lb);
		if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
			json_decref(j);
			fail("cannot write the diff");
			goto out;
		}
		json_decref(j);
		fputc('\n', stdout);
	} else {
		bool color = c->color ? strcmp(c->color, "always") == 0
				      : isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
		if (c->color && strcmp(c->color, "auto") == 0)
			color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
		if (diff_write_text(d, stdout, color) < 0) {
			fail("cannot write the diff");
			goto out;
		}
	}
	if (fflush(stdout) != 0) {
		fail("cannot write the diff: %s", strerror(errno));
		goto out;
	}
	status = d->n_changes ? EXIT_DIFFERENT : EXIT_SAME;
out:
	diff_free(d);
	model_free(a);
	model_free(b);
	return status;
}

int main(int argc, char **argv)
{
	enum { OPT_FORMAT = 256, OPT_COLOR, OPT_CONNECT_TIMEOUT };
	static const struct option longopts[] = {
		{ "dsn", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { .connect_timeout_ms = 10000 };
	const char *command;
	int opt;

	/* Options may come before or after the command (GNU getopt permutes);
	 * the first non-option is the command. */
	while ((opt = getopt_long(argc, argv, "d:o:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			c.dsn = optarg;
			break;
		case 'o':
			c.output = optarg;
			break;
		case OPT_FORMAT:
			c.format = optarg;
			break;
		case OPT_COLOR:
			if (strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never")) {
				fail("--color takes auto, always or never");
				return EXIT_TROUBLE;
			}
			c.color = optarg;
			break;
		case OPT_CONNECT_TIMEOUT: {
			char *end;
			double secs = strtod(optarg, &end);
			if (*end || secs <= 0 || secs > 86400) {
				fail("--connect-timeout takes a number of seconds");
				return EXIT_TROUBLE;
			}
			c.connect_timeout_ms = (int)(secs * 1000);
			break;
		}
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_SAME;
		case 'V':
			printf("schemadrift %s\n", SCHEMADRIFT_VERSION);
			return EXIT_SAME;
		default:
			fputs("Try 'schemadrift --help'.\n", stderr);
			return EXIT_TROUBLE;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EXIT_TROUBLE;
	}
	command = argv[optind++];
	argc -= optind;
	argv += optind;
	if (strcmp(command, "snapshot") == 0)
		return cmd_snapshot(&c, argc, argv);
	if (strcmp(command, "hash") == 0)
		return cmd_hash(&c, argc, argv);
	if (strcmp(command, "diff") == 0)
		return cmd_diff(&c, argc, argv);
	fail("unknown command '%s' (see --help)", command);
	return EXIT_TROUBLE;
}
