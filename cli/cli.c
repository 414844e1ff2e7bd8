/* schemadrift, the command-line tool: options, then one command of the cli_*.c files. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "version.h"

static const char usage_text[] =
	"Usage: schemadrift COMMAND [OPTIONS]\n"
	"\n"
	"Commands:\n"
	"  snapshot --dsn DSN [-o FILE]     write the schema of a live database as JSON\n"
	"  hash (--dsn DSN | FILE)          print the schema's SHA-256 hash\n"
	"  diff A B [--format text|json|sql]  show what changed from A to B (sql: the\n"
	"                                   statements that turn A into B, to review)\n"
	"  kinds                            list object kinds, attributes and --ignore groups\n"
	"  probe --dsn DSN                  print the change probe's catalog fingerprint\n"
	"  verify --dsn DSN --expected PATH does the database match the repository's schema?\n"
	"                                   PATH: a .sql file, a directory of .sql files or of\n"
	"                                   golang-migrate, Flyway, goose or dbmate migrations,\n"
	"                                   or a snapshot file (see docs/verify.md)\n"
	"  verify --dsn DSN --expected-cmd COMMAND   the schema COMMAND builds in an empty\n"
	"                                   database (DATABASE_URL, PG* set), e.g. alembic\n"
	"  test-alert --config FILE --channel NAME   send a test alert through a notifier\n"
	"  render --channel KIND DIFF.json  print what a notifier of KIND would send for a diff\n"
	"                                   (with --config FILE: the [notifier KIND] section)\n"
	"\n"
	"History store (per target, under --state-dir; see docs/store.md):\n"
	"  snapshot --dsn DSN --target NAME record a run: the snapshot if its hash is new,\n"
	"                                   one history line, then retention\n"
	"  baseline create TARGET --dsn DSN take a snapshot and make it the baseline\n"
	"  baseline accept TARGET [REF] --reason TEXT   accept a snapshot (default latest)\n"
	"  baseline show TARGET             the baseline, who accepted it, and drift since\n"
	"  ack TARGET OBJECT --reason TEXT [--expires DATE]   acknowledge the drift of\n"
	"                                   objects matching [KIND:]GLOB in their current state\n"
	"  ack --list [TARGET] | ack --remove TARGET ID|OBJECT\n"
	"  history TARGET [--who]           when the schema changed, one line per change;\n"
	"                                   --who: each change and who made it (DDL recorder)\n"
	"  history prune [TARGET...]        apply retention now\n"
	"  show TARGET@REF [--format json]  a stored snapshot\n"
	"  report TARGET [--since TIME] -o FILE.html   the history as one static HTML page:\n"
	"                                   timeline, each change attribute by attribute,\n"
	"                                   baselines, acks, alerts (docs/report.md)\n"
	"  report --all -o FILE.html|DIR/   the fleet: every target's state, last change and\n"
	"                                   how long it has drifted (DIR/: a page per target too)\n"
	"\n"
	"A running schemadriftd (through RUNTIME_DIR/control.sock; see schemadriftd(8)):\n"
	"  status [--format text|json]      per target: state, last run, hash, next run,\n"
	"                                   last error\n"
	"  run-now TARGET                   check TARGET now instead of at its next run\n"
	"\n"
	"Schema health checks (docs/checks.md):\n"
	"  check --dsn DSN [--only LIST] [--format text|json|junit|github] [--config FILE]\n"
	"        [--fail-on info|warning|breaking]   foreign keys without a covering index,\n"
	"                                   orphan rows, rows failing NOT VALID CHECK, domain\n"
	"                                   and NOT NULL constraints, [check NAME] SQL checks;\n"
	"                                   exit 1 when a finding is at or above --fail-on\n"
	"      --only LIST      fk-index, orphans, check-violations, null-violations,\n"
	"                       custom:NAME, custom (all [check] sections), all (default)\n"
	"      --all-constraints   orphans under valid foreign keys too, NULLs in valid\n"
	"                       NOT NULL columns too (default: NOT VALID constraints only)\n"
	"      --exact-counts   count every violating row (a full scan per constraint)\n"
	"      --sample-rows N  show at most N violating rows per finding (default 10)\n"
	"      --sample-above N sample tables estimated above N rows (default 1000000;\n"
	"                       TABLESAMPLE SYSTEM ... REPEATABLE; 0: never sample)\n"
	"      --statement-timeout SECONDS, --lock-timeout SECONDS   per statement\n"
	"                       (default 30 and 1)\n"
	"\n"
	"A side of diff (A or B) is one of:\n"
	"  FILE                             a snapshot file written by `schemadrift snapshot`\n"
	"  -                                a snapshot on standard input\n"
	"  postgresql://... or postgres://... a live database, as a libpq URI\n"
	"  dsn:CONNINFO                     a live database, as a libpq connection string,\n"
	"                                   e.g. dsn:service=prod or 'dsn:host=db1 dbname=app'\n"
	"  TARGET@REF                       a stored snapshot; REF is baseline, latest, a hash\n"
	"                                   prefix or a time (2026-11-20T06:00: the one in force)\n"
	"\n"
	"DSN is any libpq connection string or URI (service= works). Put passwords in\n"
	"~/.pgpass or PGPASSFILE, not on the command line.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE    write the snapshot to FILE atomically (default: stdout)\n"
	"      --format FORMAT  diff output: text (default), json or sql\n"
	"      --color WHEN     colour text output: auto (default, only on a terminal),\n"
	"                       always or never\n"
	"      --connect-timeout SECONDS   give up connecting after this long (default 10)\n"
	"\n"
	"Noise control (snapshot, hash, diff; applied before hashing):\n"
	"      --include GLOB          only objects whose schema.name matches (repeatable)\n"
	"      --exclude GLOB          leave out objects matching, e.g. 'audit.*' (repeatable)\n"
	"      --include-schema GLOB   only these schemas (repeatable)\n"
	"      --exclude-schema GLOB   leave out these schemas, e.g. 'tmp_*' (repeatable)\n"
	"      --ignore LIST           comma-separated: privileges, ownership, comments,\n"
	"                              column-order, body-whitespace, a kind (trigger), an\n"
	"                              attribute (tablespace) or kind.attribute\n"
	"      --partitions MODE       parent (default: partitions' columns, indexes... are\n"
	"                              reported once at the partitioned table) or full\n"
	"\n"
	"Store options:\n"
	"      --state-dir DIR  the store (default $SCHEMADRIFT_STATE_DIR or /var/lib/schemadrift)\n"
	"      --config FILE    the daemon's configuration: its state_dir, or with store =\n"
	"                       postgresql the central store (default $SCHEMADRIFT_CONFIG)\n"
	"      --target NAME    snapshot: record the run into NAME's history\n"
	"      --reason TEXT    why (baseline, ack); recorded in the audit log\n"
	"      --expires DATE   ack: until this date (through its end, UTC) or time\n"
	"      --since TIME     report: only what happened from TIME on (a date or time)\n"
	"      --all            report: every target in the state directory\n"
	"      --keep N, --keep-days D, --history-days H   retention, saved per target:\n"
	"                       the N latest snapshots and all seen in D days; history\n"
	"                       lines for H days (default 100, 30, 365)\n"
	"\n"
	"Verify options:\n"
	"      --expected-format F   sql, sql-dir, golang-migrate, flyway, goose, dbmate or\n"
	"                       snapshot (default: detected)\n"
	"      --scratch-dsn DSN     a server where verify may create (and drop) a database;\n"
	"                       default: an embedded throwaway cluster from local binaries\n"
	"      --pg-bindir DIR  the embedded cluster's server binaries (default: pg_config,\n"
	"                       /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin)\n"
	"      --format F       text (default), json, junit or github\n"
	"      --target NAME    also compare with NAME's baseline in the store (three-way)\n"
	"      --timing         print how long each part took on standard error\n"
	"\n"
	"Who changed it (the DDL recorder, docs/attribution.md):\n"
	"  audit install --dsn DSN          install the event-trigger recorder (needs the\n"
	"                                   rights event triggers need: a superuser)\n"
	"  audit uninstall --dsn DSN        remove it and its rows\n"
	"  audit status --dsn DSN           is it installed and recording? (exit 1: no)\n"
	"      --recorder-schema NAME  its schema (default schemadrift)\n"
	"      --retention INTERVAL    rows older than this are removed (default '30 days')\n"
	"      --statement-length N    characters of each statement kept (default 1024)\n"
	"      --no-statement          record no statement text (literals can be secrets)\n"
	"      --grant ROLE            let the monitoring ROLE read the recorder's rows\n"
	"\n"
	"Daemon options:\n"
	"      --runtime-dir DIR  where the control socket is (default\n"
	"                       $SCHEMADRIFT_RUNTIME_DIR or /run/schemadrift)\n"
	"\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show the version\n"
	"\n"
	"Exit status: 0 same, 1 different (diff, verify), 2 trouble.\n";

/* Adding a command: a cli_<name>.c file and one row here. */
static const struct {
	const char *name;
	int (*run)(const struct cli *c, int argc, char **argv);
} commands[] = {
	{ "snapshot", cli_cmd_snapshot },
	{ "hash", cli_cmd_hash },
	{ "diff", cli_cmd_diff },
	{ "kinds", cli_cmd_kinds },
	{ "probe", cli_cmd_probe },
	{ "test-alert", cli_cmd_test_alert },
	{ "render", cli_cmd_render },
	{ "outbox-drain", cli_cmd_outbox_drain }, /* diagnostic, docs/outbox.md */
	{ "baseline", cli_cmd_baseline },
	{ "ack", cli_cmd_ack },
	{ "history", cli_cmd_history },
	{ "show", cli_cmd_show },
	{ "status", cli_cmd_status },   /* cli_control.c */
	{ "run-now", cli_cmd_run_now },
	{ "report", cli_cmd_report },   /* cli_html.c */
	{ "verify", cli_cmd_verify },   /* cli_verify.c */
	{ "check", cli_cmd_check },     /* cli_check.c */
	{ "audit", cli_cmd_audit },     /* cli_audit.c */
};

/* Frees what the options allocated, so sanitizers see a clean exit. */
static int leave(struct cli *c, int status)
{
	filter_done(&c->filter);
	return status;
}

int main(int argc, char **argv)
{
	enum { OPT_FORMAT = 256, OPT_COLOR, OPT_CONNECT_TIMEOUT, OPT_INCLUDE, OPT_EXCLUDE,
	       OPT_INCLUDE_SCHEMA, OPT_EXCLUDE_SCHEMA, OPT_IGNORE, OPT_PARTITIONS };
	enum { OPT_TARGET = 512, OPT_STATE_DIR, OPT_REASON, OPT_EXPIRES, OPT_LIST, OPT_REMOVE,
	       OPT_KEEP, OPT_KEEP_DAYS, OPT_HISTORY_DAYS }; /* the history store */
	enum { OPT_CONFIG = 768, OPT_CHANNEL, OPT_SPOOL, OPT_ENQUEUE_TEST }; /* cli_alert.c */
	enum { OPT_RUNTIME_DIR = 1024 }; /* cli_control.c */
	enum { OPT_SINCE = 1280, OPT_ALL, /* cli_html.c */
	       OPT_EXPECTED, OPT_EXPECTED_FORMAT, OPT_EXPECTED_CMD, OPT_SCRATCH_DSN,
	       OPT_PG_BINDIR, OPT_TIMING, /* cli_verify.c */
	       OPT_ONLY, OPT_FAIL_ON, OPT_SAMPLE_ROWS, OPT_SAMPLE_ABOVE, OPT_STMT_TIMEOUT,
	       OPT_LOCK_TIMEOUT, OPT_EXACT_COUNTS, OPT_ALL_CONSTRAINTS }; /* cli_check.c */
	enum { OPT_RECORDER_SCHEMA = 1536, OPT_RETENTION, OPT_STATEMENT_LENGTH, OPT_NO_STATEMENT,
	       OPT_GRANT, OPT_WHO }; /* cli_audit.c, history --who */
	static const struct option longopts[] = {
		{ "dsn", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
		{ "include", required_argument, NULL, OPT_INCLUDE },
		{ "exclude", required_argument, NULL, OPT_EXCLUDE },
		{ "include-schema", required_argument, NULL, OPT_INCLUDE_SCHEMA },
		{ "exclude-schema", required_argument, NULL, OPT_EXCLUDE_SCHEMA },
		{ "ignore", required_argument, NULL, OPT_IGNORE },
		{ "partitions", required_argument, NULL, OPT_PARTITIONS },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "remove", no_argument, NULL, OPT_REMOVE },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "keep-days", required_argument, NULL, OPT_KEEP_DAYS },
		{ "history-days", required_argument, NULL, OPT_HISTORY_DAYS },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "channel", required_argument, NULL, OPT_CHANNEL },
		{ "spool", required_argument, NULL, OPT_SPOOL },
		{ "enqueue-test", required_argument, NULL, OPT_ENQUEUE_TEST },
		{ "runtime-dir", required_argument, NULL, OPT_RUNTIME_DIR },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "expected", required_argument, NULL, OPT_EXPECTED },
		{ "expected-format", required_argument, NULL, OPT_EXPECTED_FORMAT },
		{ "expected-cmd", required_argument, NULL, OPT_EXPECTED_CMD },
		{ "scratch-dsn", required_argument, NULL, OPT_SCRATCH_DSN },
		{ "pg-bindir", required_argument, NULL, OPT_PG_BINDIR },
		{ "timing", no_argument, NULL, OPT_TIMING },
		{ "only", required_argument, NULL, OPT_ONLY },
		{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
		{ "sample-rows", required_argument, NULL, OPT_SAMPLE_ROWS },
		{ "sample-above", required_argument, NULL, OPT_SAMPLE_ABOVE },
		{ "statement-timeout", required_argument, NULL, OPT_STMT_TIMEOUT },
		{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
		{ "exact-counts", no_argument, NULL, OPT_EXACT_COUNTS },
		{ "all-constraints", no_argument, NULL, OPT_ALL_CONSTRAINTS },
		{ "recorder-schema", required_argument, NULL, OPT_RECORDER_SCHEMA },
		{ "retention", required_argument, NULL, OPT_RETENTION },
		{ "statement-length", required_argument, NULL, OPT_STATEMENT_LENGTH },
		{ "no-statement", no_argument, NULL, OPT_NO_STATEMENT },
		{ "grant", required_argument, NULL, OPT_GRANT },
		{ "who", no_argument, NULL, OPT_WHO },
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
				cli_fail("--color takes auto, always or never");
				return leave(&c, EXIT_TROUBLE);
			}
			c.color = optarg;
			break;
		case OPT_CONNECT_TIMEOUT: {
			char *end;
			double secs = strtod(optarg, &end);
			if (*end || secs <= 0 || secs > 86400) {
				cli_fail("--connect-timeout takes a number of seconds");
				return leave(&c, EXIT_TROUBLE);
			}
			c.connect_timeout_ms = (int)(secs * 1000);
			break;
		}
		case OPT_INCLUDE:
		case OPT_EXCLUDE:
		case OPT_INCLUDE_SCHEMA:
		case OPT_EXCLUDE_SCHEMA: {
			struct filter *f = &c.filter;
			int r = opt == OPT_INCLUDE ? filter_add(&f->include, &f->n_include, optarg)
			      : opt == OPT_EXCLUDE ? filter_add(&f->exclude, &f->n_exclude, optarg)
			      : opt == OPT_INCLUDE_SCHEMA
				      ? filter_add(&f->include_schema, &f->n_include_schema, optarg)
				      : filter_add(&f->exclude_schema, &f->n_exclude_schema, optarg);
			if (r < 0) {
				cli_fail("out of memory");
				return leave(&c, EXIT_TROUBLE);
			}
			break;
		}
		case OPT_IGNORE: {
			struct error err;
			if (filter_parse_ignore(&c.filter, optarg, &err) < 0) {
				cli_fail("%s", err.text);
				return leave(&c, EXIT_TROUBLE);
			}
			break;
		}
		case OPT_PARTITIONS:
			if (strcmp(optarg, "full") && strcmp(optarg, "parent")) {
				cli_fail("--partitions takes parent or full");
				return leave(&c, EXIT_TROUBLE);
			}
			c.partitions_full = strcmp(optarg, "full") == 0;
			break;
		case OPT_TARGET:
			c.target = optarg;
			break;
		case OPT_STATE_DIR:
			c.state_dir = optarg;
			break;
		case OPT_REASON:
			c.reason = optarg;
			break;
		case OPT_EXPIRES:
			c.expires = optarg;
			break;
		case OPT_LIST:
			c.list = true;
			break;
		case OPT_REMOVE:
			c.remove = true;
			break;
		case OPT_KEEP:
			c.keep = optarg;
			break;
		case OPT_KEEP_DAYS:
			c.keep_days = optarg;
			break;
		case OPT_HISTORY_DAYS:
			c.history_days = optarg;
			break;
		case OPT_CONFIG:
			c.config = optarg;
			break;
		case OPT_CHANNEL:
			c.channel = optarg;
			break;
		case OPT_SPOOL:
			c.spool = optarg;
			break;
		case OPT_ENQUEUE_TEST:
			c.enqueue_test = optarg;
			break;
		case OPT_RUNTIME_DIR:
			c.runtime_dir = optarg;
			break;
		case OPT_SINCE:
			c.since = optarg;
			break;
		case OPT_ALL:
			c.all = true;
			break;
		case OPT_EXPECTED:
			c.expected = optarg;
			break;
		case OPT_EXPECTED_FORMAT:
			c.expected_format = optarg;
			break;
		case OPT_EXPECTED_CMD:
			c.expected_cmd = optarg;
			break;
		case OPT_SCRATCH_DSN:
			c.scratch_dsn = optarg;
			break;
		case OPT_PG_BINDIR:
			c.pg_bindir = optarg;
			break;
		case OPT_TIMING:
			c.timing = true;
			break;
		case OPT_ONLY:
			c.only = optarg;
			break;
		case OPT_FAIL_ON:
			c.fail_on = optarg;
			break;
		case OPT_SAMPLE_ROWS:
			c.sample_rows = optarg;
			break;
		case OPT_SAMPLE_ABOVE:
			c.sample_above = optarg;
			break;
		case OPT_STMT_TIMEOUT:
			c.statement_timeout = optarg;
			break;
		case OPT_LOCK_TIMEOUT:
			c.lock_timeout = optarg;
			break;
		case OPT_EXACT_COUNTS:
			c.exact_counts = true;
			break;
		case OPT_ALL_CONSTRAINTS:
			c.all_constraints = true;
			break;
		case OPT_RECORDER_SCHEMA:
			c.recorder_schema = optarg;
			break;
		case OPT_RETENTION:
			c.retention = optarg;
			break;
		case OPT_STATEMENT_LENGTH:
			c.statement_length = optarg;
			break;
		case OPT_NO_STATEMENT:
			c.no_statement = true;
			break;
		case OPT_GRANT:
			c.grant = optarg;
			break;
		case OPT_WHO:
			c.who = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return leave(&c, EXIT_SAME);
		case 'V':
			printf("schemadrift %s\n", SCHEMADRIFT_VERSION);
			return leave(&c, EXIT_SAME);
		default:
			fputs("Try 'schemadrift --help'.\n", stderr);
			return leave(&c, EXIT_TROUBLE);
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return leave(&c, EXIT_TROUBLE);
	}
	command = argv[optind++];
	argc -= optind;
	argv += optind;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(command, commands[i].name) == 0) {
			return leave(&c, commands[i].run(&c, argc, argv));
		}
	cli_fail("unknown command '%s' (see --help)", command);
	return leave(&c, EXIT_TROUBLE);
}
