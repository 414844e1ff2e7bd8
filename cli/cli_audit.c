/* schemadrift audit install|uninstall|status: the DDL recorder in a database (docs/attribution.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dbcheck.h"
#include "live.h"
#include "recorder.h"
#include "utf8.h"

static void put_escaped(const char *label, const char *s)
{
	printf("%-12s ", label);
	utf8_escape_fputs(s, strlen(s), 0, stdout);
	putchar('\n');
}

static int status(PGconn *conn, const char *schema, struct error *err)
{
	struct recorder_status st;

	if (recorder_status(conn, schema, &st, err) < 0)
		return EXIT_TROUBLE;
	if (!st.installed) {
		put_escaped("recorder", "not installed");
		printf("             install it with: schemadrift audit install --dsn DSN\n");
		return EXIT_DIFFERENT;
	}
	put_escaped("recorder", "installed");
	put_escaped("schema", schema);
	put_escaped("settings", st.settings);
	put_escaped(RECORDER_DDL_TRIGGER, st.ddl_trigger[0] ? st.ddl_trigger : "missing");
	put_escaped(RECORDER_DROP_TRIGGER, st.drop_trigger[0] ? st.drop_trigger : "missing");
	printf("%-12s %lld\n", "rows", st.rows);
	if (st.rows) {
		put_escaped("oldest", st.oldest);
		put_escaped("newest", st.newest);
	}
	put_escaped("readers", st.readers[0] ? st.readers : "(superusers only)");
	/* Disabled, replica-only or missing triggers record nothing: as
	 * different as absent (the daemon's recorder_problem() agrees). */
	bool records = recorder_trigger_records(st.ddl_trigger) &&
		       recorder_trigger_records(st.drop_trigger);
	if (!records)
		printf("the recorder does not record: enable its event triggers or run "
		       "schemadrift audit install again\n");
	return records ? EXIT_SAME : EXIT_DIFFERENT;
}

int cli_cmd_audit(const struct cli *c, int argc, char **argv)
{
	const char *schema = c->recorder_schema ? c->recorder_schema : RECORDER_DEFAULT_SCHEMA;
	char where[512];
	struct error err;
	PGconn *conn = NULL;
	int rc = EXIT_TROUBLE;

	if (argc != 1 || (strcmp(argv[0], "install") && strcmp(argv[0], "uninstall") &&
			  strcmp(argv[0], "status"))) {
		cli_fail("audit takes install, uninstall or status, and --dsn DSN (see --help)");
		return EXIT_TROUBLE;
	}
	if (!c->dsn) {
		cli_fail("audit %s needs --dsn DSN", argv[0]);
		return EXIT_TROUBLE;
	}
	struct recorder_install_options io = {
		.schema = schema,
		.retention = c->retention,
		.statement_length = 1024,
		.grant_role = c->grant,
	};
	if (c->statement_length) {
		char *end;
		long n = strtol(c->statement_length, &end, 10);
		if (*end || end == c->statement_length || n < 0 || n > 1000000) {
			cli_fail("--statement-length takes a number of characters (0: no statement text)");
			return EXIT_TROUBLE;
		}
		io.statement_length = (int)n;
	}
	if (c->no_statement)
		io.statement_length = 0;
	if (dbcheck_connect(c->dsn, NULL, c->connect_timeout_ms, &conn, &err) < 0) {
		cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	live_describe_dsn(c->dsn, where, sizeof(where));
	if (strcmp(argv[0], "install") == 0) {
		if (recorder_install(conn, &io, &err) == 0) {
			printf("installed the DDL recorder in schema ");
			utf8_escape_fputs(schema, strlen(schema), 0, stdout);
			printf(" (%s)\n", where);
			rc = EXIT_SAME;
		}
	} else if (strcmp(argv[0], "uninstall") == 0) {
		bool kept;

		if (recorder_uninstall(conn, schema, &kept, &err) == 0) {
			printf("removed the DDL recorder and its rows (%s)\n", where);
			if (kept) {
				printf("kept schema ");
				utf8_escape_fputs(schema, strlen(schema), 0, stdout);
				printf(": it holds objects that are not the recorder's\n");
			}
			rc = EXIT_SAME;
		}
	} else {
		rc = status(conn, schema, &err);
	}
	if (rc == EXIT_TROUBLE) {
		error_prefix(&err, "%s", where);
		cli_fail("%s", err.text);
	}
	PQfinish(conn);
	if (fflush(stdout) != 0)
		rc = EXIT_TROUBLE;
	return rc;
}
