/* schemadrift check: schema health checks on a live database, as text, JSON, JUnit or GitHub annotations. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dbcheck.h"
#include "ini.h"

/* Bytes from the server, with control characters as \xHH (newlines kept when lines). */
static void put(FILE *out, const char *s, bool lines)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch < 0x20 && !(lines && ch == '\n')) || ch == 0x7f)
			fprintf(out, "\\x%02x", ch);
		else
			fputc(ch, out);
	}
}

static const char *status_word(enum dbcheck_status s)
{
	return s == DBCHECK_OK ? "ok" : s == DBCHECK_PARTIAL ? "partial" : s == DBCHECK_TIMEOUT
								      ? "TIMED OUT"
								      : "FAILED";
}

/* One violating row: (col=value, ...). */
static void put_row(FILE *out, json_t *cols, json_t *row)
{
	size_t i;
	json_t *v;

	fputc('(', out);
	json_array_foreach(row, i, v) {
		fprintf(out, "%s", i ? ", " : "");
		put(out, json_string_value(json_array_get(cols, i)), false);
		fputc('=', out);
		if (json_is_null(v))
			fputs("NULL", out);
		else
			put(out, json_string_value(v), false);
	}
	fputc(')', out);
}

static void write_text(const struct dbcheck_report *r, FILE *out)
{
	size_t f = 0, by[3] = { 0 };

	for (size_t i = 0; i < r->n_results; i++) {
		const struct dbcheck_result *res = &r->results[i];
		size_t k;
		json_t *note;

		fprintf(out, "%s: %s, %zu finding%s (%lld ms)\n", res->name, status_word(res->status),
			res->n_findings, res->n_findings == 1 ? "" : "s", res->duration_ms);
		json_array_foreach(res->notes, k, note) {
			fputs("  note: ", out);
			put(out, json_string_value(note), false);
			fputc('\n', out);
		}
		for (size_t n = 0; n < res->n_findings; n++, f++) {
			const struct dbcheck_finding *fd = &r->findings[f];
			json_t *rows = json_object_get(fd->details, "rows");
			json_t *cols = json_object_get(fd->details, "columns"), *row;

			by[fd->severity]++;
			fprintf(out, "  %-8s ", diff_severity_name(fd->severity));
			put(out, fd->key, false);
			fputs("\n           ", out);
			put(out, fd->message, false);
			fputc('\n', out);
			json_array_foreach(rows, k, row) {
				fputs("           row ", out);
				put_row(out, cols, row);
				fputc('\n', out);
			}
			if (fd->fix) {
				const char *p = fd->fix;
				fputs("           fix:\n", out);
				while (*p) {
					const char *e = strchr(p, '\n');
					size_t len = e ? (size_t)(e - p) : strlen(p);
					char *line = strndup(p, len);
					fputs("             ", out);
					put(out, line, false);
					fputc('\n', out);
					free(line);
					p += len + (e ? 1 : 0);
				}
			}
		}
	}
	fprintf(out, "%zu finding%s", r->n_findings, r->n_findings == 1 ? "" : "s");
	if (r->n_findings) {
		const char *sep = " (";
		for (int s = DIFF_BREAKING; s >= DIFF_INFO; s--)
			if (by[s]) {
				fprintf(out, "%s%zu %s", sep, by[s], diff_severity_name((enum diff_severity)s));
				sep = ", ";
			}
		fputc(')', out);
	}
	if (dbcheck_report_incomplete(r))
		fputs("; incomplete: a check timed out or failed", out);
	fputc('\n', out);
}

static void put_xml(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		switch (ch) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			/* XML 1.0 allows no control characters but tab and newline. */
			if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
				fprintf(out, "\\x%02x", ch);
			else
				fputc(ch, out);
		}
	}
}

/* One testsuite per check, one testcase per finding (a failure) or "clean". */
static void write_junit(const struct dbcheck_report *r, FILE *out)
{
	size_t f = 0;

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"schemadrift check\""
		     " tests=\"%zu\" failures=\"%zu\">\n", r->n_findings + r->n_results, r->n_findings);
	for (size_t i = 0; i < r->n_results; i++) {
		const struct dbcheck_result *res = &r->results[i];
		bool err = res->status == DBCHECK_TIMEOUT || res->status == DBCHECK_FAILED;

		fputs("  <testsuite name=\"", out);
		put_xml(out, res->name);
		fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%d\" time=\"%.3f\">\n",
			res->n_findings + 1, res->n_findings, err ? 1 : 0, res->duration_ms / 1000.0);
		fputs("    <testcase classname=\"", out);
		put_xml(out, res->name);
		fputs("\" name=\"run\">", out);
		if (err) {
			fputs("<error message=\"", out);
			put_xml(out, res->error);
			fputs("\"/>", out);
		}
		fputs("</testcase>\n", out);
		for (size_t n = 0; n < res->n_findings; n++, f++) {
			const struct dbcheck_finding *fd = &r->findings[f];

			fputs("    <testcase classname=\"", out);
			put_xml(out, res->name);
			fputs("\" name=\"", out);
			put_xml(out, fd->object[0] ? fd->object : fd->key);
			fprintf(out, "\"><failure type=\"%s\" message=\"", diff_severity_name(fd->severity));
			put_xml(out, fd->message);
			fputs("\">", out);
			put_xml(out, fd->fix ? fd->fix : "");
			fputs("</failure></testcase>\n", out);
		}
		fputs("  </testsuite>\n", out);
	}
	fputs("</testsuites>\n", out);
}

/* GitHub Actions workflow commands: data escapes %, CR, LF; properties also : and ,. */
static void put_gh(FILE *out, const char *s, bool property)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '%')
			fputs("%25", out);
		else if (ch == '\r')
			fputs("%0D", out);
		else if (ch == '\n')
			fputs("%0A", out);
		else if (property && ch == ':')
			fputs("%3A", out);
		else if (property && ch == ',')
			fputs("%2C", out);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(out, "\\x%02x", ch);
		else
			fputc(ch, out);
	}
}

static void write_github(const struct dbcheck_report *r, FILE *out)
{
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct dbcheck_finding *fd = &r->findings[i];
		const char *level = fd->severity == DIFF_BREAKING ? "error"
				    : fd->severity == DIFF_WARNING ? "warning" : "notice";

		fprintf(out, "::%s title=", level);
		put_gh(out, fd->key, true);
		fputs("::", out);
		put_gh(out, fd->message, false);
		if (fd->fix) {
			fputs("\n", out);
			put_gh(out, fd->fix, false);
		}
		fputc('\n', out);
	}
	for (size_t i = 0; i < r->n_results; i++)
		if (r->results[i].status == DBCHECK_TIMEOUT || r->results[i].status == DBCHECK_FAILED) {
			fputs("::error title=", out);
			put_gh(out, r->results[i].name, true);
			fputs("::", out);
			put_gh(out, r->results[i].error, false);
			fputc('\n', out);
		}
}

static int parse_ms(const char *opt, const char *v, int *ret)
{
	char *end;
	double secs;

	if (!v)
		return 0;
	secs = strtod(v, &end);
	if (*end || !(secs > 0) || secs > 86400) {
		cli_fail("%s takes a number of seconds", opt);
		return -1;
	}
	*ret = (int)(secs * 1000 + 0.5);
	if (*ret < 1)
		*ret = 1;
	return 0;
}

static int parse_count(const char *opt, const char *v, long long min, long long *ret)
{
	char *end;
	long long n;

	if (!v)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*end || errno || n < min) {
		cli_fail("%s takes a whole number (at least %lld)", opt, min);
		return -1;
	}
	*ret = n;
	return 0;
}

/* "a,b" into a list of names (the strings point into *ret_buf). */
static int split_only(const char *only, char ***ret, size_t *ret_n, char **ret_buf)
{
	char *buf = strdup(only ? only : "all"), *save = NULL;
	char **names = calloc(strlen(only ? only : "all") + 1, sizeof(*names));
	size_t n = 0;

	if (!buf || !names) {
		free(buf);
		free(names);
		return -ENOMEM;
	}
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		char *e = t + strlen(t);
		while (e > t && e[-1] == ' ')
			*--e = '\0';
		if (*t)
			names[n++] = t;
	}
	*ret = names;
	*ret_n = n;
	*ret_buf = buf;
	return 0;
}

/* --target NAME without --dsn: the running daemon runs that target's checks now. */
static int run_in_daemon(const struct cli *c)
{
	json_t *req = json_pack("{s:s, s:s}", "command", "run-checks", "target", c->target), *ans;
	struct error err;
	int r = req ? cli_control_ask(c, req, &ans, &err) : error_set(&err, -ENOMEM, "out of memory");

	json_decref(req);
	if (r < 0) {
		cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	if (json_object_get(ans, "error")) {
		cli_fail("check %s: %s", c->target, json_string_value(json_object_get(ans, "error")));
		json_decref(ans);
		return EXIT_TROUBLE;
	}
	printf("%s: checks %s (findings in schemadrift status)\n", c->target,
	       strcmp(json_string_value(json_object_get(ans, "result")), "running") == 0
		       ? "already running" : "started");
	json_decref(ans);
	return fflush(stdout) == 0 ? EXIT_SAME : EXIT_TROUBLE;
}

int cli_cmd_check(const struct cli *c, int argc, char **argv)
{
	struct dbcheck_options o = { 0 };
	struct dbcheck_custom_set *customs = NULL;
	struct dbcheck_plan *plan = NULL;
	struct dbcheck_report *rep = NULL;
	struct ini *raw = NULL;
	PGconn *conn = NULL;
	char **names = NULL, *buf = NULL;
	size_t n_names = 0;
	enum diff_severity fail_on = DIFF_WARNING;
	const char *format = c->format ? c->format : "text";
	struct error err;
	int status = EXIT_TROUBLE;

	(void)argv;
	if (argc != 0) {
		cli_fail("check takes no arguments: schemadrift check --dsn DSN [--only LIST] ...");
		return EXIT_TROUBLE;
	}
	if (!c->dsn && c->target)
		return run_in_daemon(c);
	if (!c->dsn) {
		cli_fail("check needs --dsn DSN (or --target NAME: run a target's checks in schemadriftd)");
		return EXIT_TROUBLE;
	}
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "junit") &&
	    strcmp(format, "github")) {
		cli_fail("unknown --format '%s' (text, json, junit or github)", format);
		return EXIT_TROUBLE;
	}
	if (c->fail_on) {
		if (strcmp(c->fail_on, "info") == 0)
			fail_on = DIFF_INFO;
		else if (strcmp(c->fail_on, "breaking") == 0)
			fail_on = DIFF_BREAKING;
		else if (strcmp(c->fail_on, "warning") != 0) {
			cli_fail("--fail-on takes info, warning or breaking");
			return EXIT_TROUBLE;
		}
	}
	o.sample_above = DBCHECK_DEFAULT_SAMPLE_ABOVE;
	if (parse_ms("--statement-timeout", c->statement_timeout, &o.statement_timeout_ms) < 0 ||
	    parse_ms("--lock-timeout", c->lock_timeout, &o.lock_timeout_ms) < 0 ||
	    parse_count("--sample-rows", c->sample_rows, 1, &o.sample_rows) < 0 ||
	    parse_count("--sample-above", c->sample_above, 0, &o.sample_above) < 0)
		return EXIT_TROUBLE;
	if (c->sample_above && o.sample_above == 0)
		o.sample_above = -1; /* 0 on the command line: never sample */
	o.exact_counts = c->exact_counts;
	o.all_constraints = c->all_constraints;
	if (c->config && ini_load(c->config, &raw, &err) < 0) {
		cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	if (dbcheck_customs_from_ini(raw, &customs, &err) < 0) {
		cli_fail("%s", err.text);
		goto out;
	}
	if (split_only(c->only, &names, &n_names, &buf) < 0) {
		cli_fail("out of memory");
		goto out;
	}
	if (dbcheck_plan_new(names, n_names, customs, c->target, &plan, &err) < 0) {
		cli_fail("--only: %s", err.text);
		goto out;
	}
	if (dbcheck_connect(c->dsn, NULL, c->connect_timeout_ms, &conn, &err) < 0 ||
	    dbcheck_run(conn, plan, &o, &rep, &err) < 0) {
		cli_fail("%s", err.text);
		goto out;
	}
	if (strcmp(format, "json") == 0) {
		json_t *j = dbcheck_report_to_json(rep);
		if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
			json_decref(j);
			cli_fail("cannot write the report");
			goto out;
		}
		json_decref(j);
		fputc('\n', stdout);
	} else if (strcmp(format, "junit") == 0) {
		write_junit(rep, stdout);
	} else if (strcmp(format, "github") == 0) {
		write_github(rep, stdout);
	} else {
		write_text(rep, stdout);
	}
	if (fflush(stdout) != 0) {
		cli_fail("cannot write the report: %s", strerror(errno));
		goto out;
	}
	/* As diff(1): trouble (a check that timed out or failed: we do not know) wins. */
	if (dbcheck_report_incomplete(rep))
		status = EXIT_TROUBLE;
	else
		status = dbcheck_report_worst(rep) >= (int)fail_on ? EXIT_DIFFERENT : EXIT_SAME;
out:
	dbcheck_report_free(rep);
	PQfinish(conn);
	dbcheck_plan_free(plan);
	dbcheck_custom_set_free(customs);
	ini_free(raw);
	free(names);
	free(buf);
	return status;
}
