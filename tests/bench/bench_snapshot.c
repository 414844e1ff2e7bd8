/* Snapshot benchmark: ours vs bare catalog read vs pg_dump -s, same run, same database. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "catalog.h"
#include "diff.h"
#include "error.h"
#include "live.h"
#include "model.h"
#include "snapshot.h"

/*
 * bench_snapshot [-k K] [--cli PATH] [--pg-bin DIR] [--server-log FILE] [--label L]
 *                [--no-warmup] [--no-drift] [--no-pg-dump] [--baseline DSN2] DSN
 *
 * DSN names a database that is already loaded (tests/bench/run-bench.sh
 * does that with gen_schema).  Each of K iterations (default 5), after one
 * untimed warm-up round, times in turn:
 *   ours     live_snapshot_run() (connect, pipelined catalog read, canonical
 *            JSON + SHA-256 of every object) + snapshot_write() into a
 *            byte-counting stream;
 *   bare     the same catalog queries (catalog_query_text()) in the same
 *            BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY transaction,
 *            through `psql -X -q -A -t -o /dev/null -f FILE`;
 *   libpq    the same statements through libpq in this process, results
 *            dropped (informational: server + transfer, no client work);
 *   pg_dump  `pg_dump --schema-only -f /dev/null -d DSN`;
 *   cli      `schemadrift snapshot --dsn DSN > /dev/null` as a grandchild,
 *            for its peak RSS (ru_maxrss from wait4) and wall time;
 *   baseline with --baseline, `ours` once more on DSN2: the same schema on
 *            another server (PostgreSQL 15 against 13 or 18), for the ratio
 *            ours/baseline, measured in the same rounds.
 * --no-pg-dump leaves pg_dump out (the client's pg_dump older than the server).
 * Then the diff: snapshot A, a small committed change (a column, an index,
 * a table), snapshot B, the change reverted; K times
 * snapshot_load_differing() of both files + diff_models() +
 * diff_write_text() to /dev/null; and K times the
 * CLI as a user runs it, `schemadrift diff A B` and `schemadrift hash A`
 * (streaming: only what differs is built), for time and peak RSS against
 * the CLI's own `schemadrift snapshot`.
 * With --server-log (the server's log file, log_line_prefix including %a),
 * a first, untimed CLI run with PGOPTIONS="-c log_statement=all" counts the
 * statements our snapshot sends (needs a superuser DSN), and the settings
 * statement it logged (set_config(...)) is the one the bare read sends;
 * without it the bare read uses BENCH_SETTINGS_SQL.
 *
 * The in-process `ours` leaves the bench's RSS irrelevant: peak RSS is the
 * CLI's alone.  psql and pg_dump come from --pg-bin (else PATH).  Speed is
 * reported as medians and ratios, never as pass/fail; the load average is
 * printed because other work on the machine skews everything.  The last
 * line is machine-readable: RESULT key=value ...
 */

#define BENCH_MAX_K 101

struct bench_cfg {
	const char *dsn;
	const char *cli;
	const char *server_log;
	const char *label;
	const char *pg_bin; /* directory of psql and pg_dump; NULL: PATH */
	char psql[PATH_MAX];
	char pg_dump[PATH_MAX];
	int k;
	bool warmup;
	bool drift;
	bool pg_dump_run;
	const char *baseline_dsn; /* --baseline: ours on this one too, for the ratio */
	char tmpdir[64];
	char bare_sql[128];
	char self_exe[PATH_MAX];
	/* The settings statement sent before the queries: as logged by the
	 * server when --server-log is given, else BENCH_SETTINGS_SQL. */
	char settings[1024];
};

struct bench_series {
	const char *name;
	double ms[BENCH_MAX_K];
	int n;
};

static void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void bench_die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench_snapshot: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static double bench_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int bench_dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double bench_median(const struct bench_series *s)
{
	double v[BENCH_MAX_K];

	if (s->n == 0)
		return 0;
	memcpy(v, s->ms, sizeof(double) * (size_t)s->n);
	qsort(v, (size_t)s->n, sizeof(double), bench_dbl_cmp);
	return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

static double bench_min(const struct bench_series *s)
{
	double m = s->n ? s->ms[0] : 0;

	for (int i = 1; i < s->n; i++)
		if (s->ms[i] < m)
			m = s->ms[i];
	return m;
}

static double bench_max(const struct bench_series *s)
{
	double m = s->n ? s->ms[0] : 0;

	for (int i = 1; i < s->n; i++)
		if (s->ms[i] > m)
			m = s->ms[i];
	return m;
}

static void bench_add(struct bench_series *s, double ms)
{
	if (s->n < BENCH_MAX_K)
		s->ms[s->n++] = ms;
}

/* ---- child processes ---- */

extern char **environ;

/*
 * Spawns argv with stdin from /dev/null, stdout to /dev/null and stderr to
 * errpath (appended; NULL keeps ours), optional extra environment entry,
 * waits, and returns the exit status (or -1).  ru may be NULL.
 */
static int bench_spawn(char *const argv[], const char *errpath, const char *extra_env,
		       struct rusage *ru, double *ret_ms)
{
	posix_spawn_file_actions_t fa;
	char **envp = environ;
	char **own_env = NULL;
	struct rusage dummy;
	double t0;
	pid_t pid;
	int status, r;

	if (extra_env) {
		size_t n = 0;
		while (environ[n])
			n++;
		own_env = calloc(n + 2, sizeof(*own_env));
		if (!own_env)
			bench_die("out of memory");
		memcpy(own_env, environ, n * sizeof(*own_env));
		own_env[n] = (char *)extra_env;
		envp = own_env;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (errpath)
		posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_APPEND,
						 0600);
	t0 = bench_now_ms();
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(own_env);
	if (r != 0) {
		fprintf(stderr, "bench_snapshot: cannot run %s: %s\n", argv[0], strerror(r));
		return -1;
	}
	while (wait4(pid, &status, 0, ru ? ru : &dummy) < 0)
		if (errno != EINTR)
			return -1;
	if (ret_ms)
		*ret_ms = bench_now_ms() - t0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -1;
}

/*
 * `bench_snapshot --rss-helper FD CMD ARGS...`: runs CMD as our child and
 * writes "maxrss_kib wall_ms status" to FD.  The benchmark runs the CLI
 * through this freshly exec'd, small process: a child's ru_maxrss starts at
 * the size of the address space it was forked or spawned from, so spawning
 * the CLI straight from the (big) benchmark would report our memory, not its.
 */
static int bench_rss_helper(int argc, char **argv)
{
	struct rusage ru;
	double ms = 0;
	int fd, status;
	pid_t pid;
	double t0;
	int r;

	if (argc < 4)
		return 2;
	fd = atoi(argv[2]);
	t0 = bench_now_ms();
	r = posix_spawnp(&pid, argv[3], NULL, NULL, argv + 3, environ);
	if (r != 0) {
		fprintf(stderr, "bench_snapshot: cannot run %s: %s\n", argv[3], strerror(r));
		return 2;
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return 2;
	ms = bench_now_ms() - t0;
	dprintf(fd, "%ld %.3f %d\n", ru.ru_maxrss, ms,
		WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	close(fd);
	return 0;
}

/* Runs `schemadrift ARGS...` once; returns its exit status, peak RSS (KiB) and wall time. */
static int bench_cli(const struct bench_cfg *cfg, const char *extra_env, const char *const *args,
		     long *ret_rss_kib, double *ret_ms)
{
	char fdbuf[16], line[128], errpath[160];
	char *argv[16] = {(char *)cfg->self_exe, (char *)"--rss-helper", fdbuf, (char *)cfg->cli};
	int pfd[2], status = -1;
	long rss = 0;
	double ms = 0;
	size_t n = 4;
	FILE *f;
	int r;

	if (pipe(pfd) < 0)
		bench_die("pipe: %s", strerror(errno));
	snprintf(fdbuf, sizeof(fdbuf), "%d", pfd[1]);
	snprintf(errpath, sizeof(errpath), "%s/cli.err", cfg->tmpdir);
	for (; *args && n < sizeof(argv) / sizeof(argv[0]) - 1; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	r = bench_spawn(argv, errpath, extra_env, NULL, NULL);
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (!f)
		bench_die("fdopen: %s", strerror(errno));
	if (r != 0 || !fgets(line, sizeof(line), f) ||
	    sscanf(line, "%ld %lf %d", &rss, &ms, &status) != 3)
		status = -1;
	fclose(f);
	*ret_rss_kib = rss;
	*ret_ms = ms;
	return status;
}

/* Runs the CLI snapshot once; returns its exit status, peak RSS (KiB) and wall time. */
static int bench_cli_snapshot(const struct bench_cfg *cfg, const char *extra_env,
			      long *ret_rss_kib, double *ret_ms)
{
	const char *args[] = {"snapshot", "--dsn", cfg->dsn, NULL};

	return bench_cli(cfg, extra_env, args, ret_rss_kib, ret_ms);
}

/* ---- the measurements ---- */

/* What catalog.c sent before its queries when this was written (defaults). */
#define BENCH_SETTINGS_SQL \
	"SELECT set_config('search_path', '', true), set_config('lock_timeout', '1000', true)," \
	" set_config('statement_timeout', '60000', true)"

static PGresult *bench_exec_ok(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		bench_die("%.60s...: %s", sql, PQerrorMessage(c));
	return res;
}

struct bench_counter {
	size_t bytes;
};

static ssize_t bench_count_write(void *cookie, const char *buf, size_t size)
{
	(void)buf;
	((struct bench_counter *)cookie)->bytes += size;
	return (ssize_t)size;
}

/* Ours: live snapshot + canonical JSON written to a counting stream. */
static struct model *bench_ours_on(const char *dsn, double *ret_read_ms, double *ret_write_ms,
				   size_t *ret_bytes)
{
	struct live_options opts = {.dsn = dsn};
	struct bench_counter counter = {0};
	cookie_io_functions_t io = {.write = bench_count_write};
	struct error err;
	struct model *m = NULL;
	double t0, t1, t2;
	FILE *out;
	int r;

	error_clear(&err);
	t0 = bench_now_ms();
	r = live_snapshot_run(&opts, &m, &err);
	if (r < 0)
		bench_die("snapshot: %s", err.text);
	t1 = bench_now_ms();
	out = fopencookie(&counter, "w", io);
	if (!out)
		bench_die("fopencookie: %s", strerror(errno));
	r = snapshot_write(m, out, &err);
	if (fclose(out) != 0 && r == 0)
		r = -EIO;
	if (r < 0)
		bench_die("snapshot_write: %s", err.text);
	t2 = bench_now_ms();
	*ret_read_ms = t1 - t0;
	*ret_write_ms = t2 - t1;
	*ret_bytes = counter.bytes;
	return m;
}

static struct model *bench_ours(const struct bench_cfg *cfg, double *ret_read_ms,
				double *ret_write_ms, size_t *ret_bytes)
{
	return bench_ours_on(cfg->dsn, ret_read_ms, ret_write_ms, ret_bytes);
}

static double bench_bare(const struct bench_cfg *cfg)
{
	char errpath[160];
	char *argv[] = {(char *)cfg->psql, (char *)"-X", (char *)"-q", (char *)"-A", (char *)"-t",
			(char *)"-v", (char *)"ON_ERROR_STOP=1", (char *)"-o", (char *)"/dev/null",
			(char *)"-d", (char *)cfg->dsn, (char *)"-f", (char *)cfg->bare_sql, NULL};
	double ms;

	snprintf(errpath, sizeof(errpath), "%s/psql.err", cfg->tmpdir);
	if (bench_spawn(argv, errpath, NULL, NULL, &ms) != 0)
		bench_die("psql failed on the bare catalog queries, see %s", errpath);
	return ms;
}

static double bench_pgdump(const struct bench_cfg *cfg)
{
	char errpath[160];
	char *argv[] = {(char *)cfg->pg_dump, (char *)"--schema-only", (char *)"-f",
			(char *)"/dev/null", (char *)"-d", (char *)cfg->dsn, NULL};
	double ms;

	snprintf(errpath, sizeof(errpath), "%s/pg_dump.err", cfg->tmpdir);
	if (bench_spawn(argv, errpath, NULL, NULL, &ms) != 0)
		bench_die("pg_dump failed, see %s", errpath);
	return ms;
}

/*
 * The same statements through libpq in this process, one PQexec each, the
 * results dropped: server time plus transfer, no client work at all.
 * Informational; the target compares with psql.
 */
static double bench_bare_libpq(const struct bench_cfg *cfg, int server_version)
{
	double t0 = bench_now_ms();
	PGconn *c = PQconnectdb(cfg->dsn);
	const char *q;

	if (PQstatus(c) != CONNECTION_OK)
		bench_die("cannot connect: %s", PQerrorMessage(c));
	PQclear(bench_exec_ok(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
	PQclear(bench_exec_ok(c, cfg->settings));
	for (int i = 0; (q = catalog_query_text(server_version, i)) != NULL; i++)
		PQclear(bench_exec_ok(c, q));
	PQclear(bench_exec_ok(c, "COMMIT"));
	PQfinish(c);
	return bench_now_ms() - t0;
}

/* The bare read's script: our transaction, our settings, our queries. */
static void bench_write_bare_sql(struct bench_cfg *cfg, int server_version)
{
	FILE *f;
	const char *q;
	int n = 0;

	snprintf(cfg->bare_sql, sizeof(cfg->bare_sql), "%s/bare.sql", cfg->tmpdir);
	f = fopen(cfg->bare_sql, "w");
	if (!f)
		bench_die("%s: %s", cfg->bare_sql, strerror(errno));
	/* The same statements catalog.c pipelines before its queries (defaults). */
	fprintf(f, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n%s;\n", cfg->settings);
	while ((q = catalog_query_text(server_version, n)) != NULL) {
		size_t len = strlen(q);
		while (len > 0 && (q[len - 1] == ' ' || q[len - 1] == '\n' || q[len - 1] == '\t'))
			len--;
		fprintf(f, "%.*s%s\n", (int)len, q, len > 0 && q[len - 1] == ';' ? "" : ";");
		n++;
	}
	fprintf(f, "COMMIT;\n");
	if (fclose(f) != 0)
		bench_die("%s: write error", cfg->bare_sql);
	if (n == 0)
		bench_die("catalog_query_text() returned no queries");
}

/* ---- the database: its shape, and the change between snapshots A and B ---- */

struct bench_shape {
	char server_version[32];
	char database[128];
	int server_version_num;
	long schemas, relations, tables, sequences, columns, indexes, constraints;
};

#define BENCH_USER_NS \
	"n.nspname <> 'information_schema' AND n.nspname !~ '^pg_(catalog$|toast|temp_)'"

static PGconn *bench_connect(const struct bench_cfg *cfg)
{
	PGconn *c = PQconnectdb(cfg->dsn);

	if (PQstatus(c) != CONNECTION_OK)
		bench_die("cannot connect: %s", PQerrorMessage(c));
	return c;
}

static PGresult *bench_exec(PGconn *c, const char *sql, ExecStatusType want)
{
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != want)
		bench_die("%s: %s", sql, PQerrorMessage(c));
	return res;
}

static void bench_read_shape(PGconn *c, struct bench_shape *s)
{
	PGresult *res = bench_exec(c,
		"SELECT current_setting('server_version'), current_database(),"
		" (SELECT count(*) FROM pg_namespace n WHERE " BENCH_USER_NS "),"
		" (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
		"  WHERE c.relkind IN ('r','p','v','m','S','f') AND " BENCH_USER_NS "),"
		" (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
		"  WHERE c.relkind IN ('r','p') AND " BENCH_USER_NS "),"
		" (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
		"  WHERE c.relkind = 'S' AND " BENCH_USER_NS "),"
		" (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
		"  JOIN pg_namespace n ON n.oid = c.relnamespace"
		"  WHERE c.relkind IN ('r','p','v','m','f') AND a.attnum > 0"
		"  AND NOT a.attisdropped AND " BENCH_USER_NS "),"
		" (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
		"  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE " BENCH_USER_NS "),"
		" (SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace"
		"  WHERE k.contype IN ('p','u','f','c','x') AND " BENCH_USER_NS ")",
		PGRES_TUPLES_OK);

	snprintf(s->server_version, sizeof(s->server_version), "%s", PQgetvalue(res, 0, 0));
	snprintf(s->database, sizeof(s->database), "%s", PQgetvalue(res, 0, 1));
	s->schemas = atol(PQgetvalue(res, 0, 2));
	s->relations = atol(PQgetvalue(res, 0, 3));
	s->tables = atol(PQgetvalue(res, 0, 4));
	s->sequences = atol(PQgetvalue(res, 0, 5));
	s->columns = atol(PQgetvalue(res, 0, 6));
	s->indexes = atol(PQgetvalue(res, 0, 7));
	s->constraints = atol(PQgetvalue(res, 0, 8));
	s->server_version_num = PQserverVersion(c);
	PQclear(res);
}

/*
 * The change between snapshots A and B: a column and an index on the first
 * ordinary table, a new table beside it.  Returns false (and changes
 * nothing) when there is no table or the DDL fails.
 */
static bool bench_drift(PGconn *c, bool apply, char *table, size_t size)
{
	char sql[1024];
	PGresult *res;
	bool ok;

	if (apply) {
		res = bench_exec(c,
			"SELECT quote_ident(n.nspname), quote_ident(c.relname) FROM pg_class c"
			" JOIN pg_namespace n ON n.oid = c.relnamespace"
			" WHERE c.relkind = 'r' AND NOT c.relispartition AND " BENCH_USER_NS
			" ORDER BY n.nspname, c.relname LIMIT 1", PGRES_TUPLES_OK);
		if (PQntuples(res) == 0) {
			PQclear(res);
			return false;
		}
		snprintf(table, size, "%s.%s", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
		snprintf(sql, sizeof(sql),
			 "BEGIN;"
			 " ALTER TABLE %s ADD COLUMN bench_drift_note text NOT NULL DEFAULT '';"
			 " CREATE INDEX bench_drift_idx ON %s (bench_drift_note);"
			 " CREATE TABLE %s.bench_drift_table (id bigint PRIMARY KEY, note text);"
			 " COMMIT",
			 table, table, PQgetvalue(res, 0, 0));
		PQclear(res);
	} else {
		char schema[256];
		size_t dot = strcspn(table, ".");

		/* schema part of "schema.table" (our own quote_ident output; the
		 * first table's schema may itself contain a dot only if quoted) */
		if (table[0] == '"') {
			const char *p = table + 1;
			while (*p && !(p[0] == '"' && p[1] != '"'))
				p += p[0] == '"' ? 2 : 1;
			dot = (size_t)(p - table) + 1;
		}
		snprintf(schema, sizeof(schema), "%.*s", (int)dot, table);
		snprintf(sql, sizeof(sql),
			 "BEGIN; DROP TABLE %s.bench_drift_table;"
			 " ALTER TABLE %s DROP COLUMN bench_drift_note; COMMIT",
			 schema, table);
	}
	res = PQexec(c, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok) {
		fprintf(stderr, "bench_snapshot: %s change failed: %s", apply ? "drift" : "revert",
			PQerrorMessage(c));
		PQclear(res);
		res = PQexec(c, "ROLLBACK");
	}
	PQclear(res);
	return ok;
}

/*
 * Counts our statements in the server log: lines after `from` whose prefix
 * names us (or all, in *ret_total).  The first "SELECT set_config(" we sent
 * is copied to settings (size bytes), so that the bare read sends exactly
 * the same settings.
 */
static int bench_count_statements(const char *path, long from, int *ret_total,
				  char *settings, size_t size)
{
	char line[16384];
	int ours = 0, total = 0;
	bool got_settings = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fseek(f, from, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *log = strstr(line, "LOG:  "), *text;
		if (!log)
			continue;
		if (strncmp(log, "LOG:  statement: ", 17) == 0)
			text = log + 17;
		else if (strncmp(log, "LOG:  execute ", 14) == 0 && (text = strstr(log, ">: ")))
			text += 3;
		else
			continue;
		total++;
		*log = '\0';
		if (!strstr(line, "schemadrift"))
			continue;
		ours++;
		if (!got_settings && strncmp(text, "SELECT set_config(", 18) == 0 &&
		    strlen(text) < size) {
			size_t n = strcspn(text, "\n");
			snprintf(settings, size, "%.*s", (int)n, text);
			got_settings = true;
		}
	}
	fclose(f);
	*ret_total = total;
	return ours;
}

/* The 1-minute load average: other work on the machine skews every timing. */
static double bench_loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static long bench_file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* ---- main ---- */

static void bench_usage(void)
{
	fprintf(stderr,
		"usage: bench_snapshot [-k K] [--cli PATH] [--pg-bin DIR] [--server-log FILE]\n"
		"                      [--label L] [--no-warmup] [--no-drift] [--no-pg-dump]\n"
		"                      [--baseline DSN2] DSN\n");
	exit(2);
}

static void bench_row(const struct bench_series *s)
{
	printf("  %-34s %10.1f %10.1f %10.1f\n", s->name, bench_median(s), bench_min(s),
	       bench_max(s));
}

static void bench_remove_tmpdir(const struct bench_cfg *cfg)
{
	static const char *const files[] = {"bare.sql", "a.json", "b.json", "cli.err",
					    "psql.err", "pg_dump.err"};
	char path[160];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->tmpdir, files[i]);
		unlink(path);
	}
	rmdir(cfg->tmpdir);
}

int main(int argc, char **argv)
{
	struct bench_cfg cfg = {.k = 5, .warmup = true, .drift = true, .pg_dump_run = true,
				.label = "-", .cli = SCHEMADRIFT_CLI_DEFAULT};
	struct bench_series ours = {.name = "ours: snapshot (total)"},
			    ours_read = {.name = "  live_snapshot_run (read+hash)"},
			    ours_write = {.name = "  snapshot_write (JSON out)"},
			    bare = {.name = "bare catalog read (psql)"},
			    bare_pq = {.name = "bare catalog read (libpq, no work)"},
			    dump = {.name = "pg_dump --schema-only"},
			    base = {.name = "ours on the baseline (--baseline)"},
			    cli = {.name = "CLI `schemadrift snapshot`"},
			    load = {.name = "diff: load_differing A B"},
			    dmodels = {.name = "diff: diff_models"},
			    dtext = {.name = "diff: diff_write_text"},
			    dtotal = {.name = "diff: load x2 + diff + text"},
			    cli_diff = {.name = "CLI `schemadrift diff A B`"},
			    cli_hash = {.name = "CLI `schemadrift hash A`"};
	long diff_rss = 0, hash_rss = 0;
	struct bench_shape shape;
	struct model *a_model = NULL;
	size_t snap_bytes = 0, n_objects = 0, n_changes = 0;
	long max_rss = 0, log_from;
	int stmts = -1, stmts_total = -1, rounds;
	char drift_table[512] = "", path_a[160], path_b[160];
	bool drifted = false;
	double load_start, load_end;
	struct error err;
	PGconn *conn;

	if (argc >= 2 && strcmp(argv[1], "--rss-helper") == 0)
		return bench_rss_helper(argc, argv);

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-k") == 0 && i + 1 < argc) {
			cfg.k = atoi(argv[++i]);
			if (cfg.k < 1 || cfg.k > BENCH_MAX_K - 1)
				bench_die("-k must be 1..%d", BENCH_MAX_K - 1);
		} else if (strcmp(argv[i], "--cli") == 0 && i + 1 < argc) {
			cfg.cli = argv[++i];
		} else if (strcmp(argv[i], "--server-log") == 0 && i + 1 < argc) {
			cfg.server_log = argv[++i];
		} else if (strcmp(argv[i], "--pg-bin") == 0 && i + 1 < argc) {
			cfg.pg_bin = argv[++i];
		} else if (strcmp(argv[i], "--label") == 0 && i + 1 < argc) {
			cfg.label = argv[++i];
		} else if (strcmp(argv[i], "--no-warmup") == 0) {
			cfg.warmup = false;
		} else if (strcmp(argv[i], "--no-drift") == 0) {
			cfg.drift = false;
		} else if (strcmp(argv[i], "--no-pg-dump") == 0) {
			cfg.pg_dump_run = false;
		} else if (strcmp(argv[i], "--baseline") == 0 && i + 1 < argc) {
			cfg.baseline_dsn = argv[++i];
		} else if (argv[i][0] == '-' || cfg.dsn) {
			bench_usage();
		} else {
			cfg.dsn = argv[i];
		}
	}
	if (!cfg.dsn)
		bench_usage();
	{
		ssize_t n = readlink("/proc/self/exe", cfg.self_exe, sizeof(cfg.self_exe) - 1);
		if (n < 0)
			bench_die("/proc/self/exe: %s", strerror(errno));
		cfg.self_exe[n] = '\0';
	}
	if (cfg.pg_bin) {
		snprintf(cfg.psql, sizeof(cfg.psql), "%s/psql", cfg.pg_bin);
		snprintf(cfg.pg_dump, sizeof(cfg.pg_dump), "%s/pg_dump", cfg.pg_bin);
	} else {
		snprintf(cfg.psql, sizeof(cfg.psql), "psql");
		snprintf(cfg.pg_dump, sizeof(cfg.pg_dump), "pg_dump");
	}
	if (access(cfg.cli, X_OK) != 0)
		bench_die("%s: %s (use --cli)", cfg.cli, strerror(errno));
	snprintf(cfg.tmpdir, sizeof(cfg.tmpdir), "/tmp/bench_snapshot.XXXXXX");
	if (!mkdtemp(cfg.tmpdir))
		bench_die("mkdtemp: %s", strerror(errno));
	snprintf(path_a, sizeof(path_a), "%s/a.json", cfg.tmpdir);
	snprintf(path_b, sizeof(path_b), "%s/b.json", cfg.tmpdir);

	conn = bench_connect(&cfg);
	bench_read_shape(conn, &shape);
	PQfinish(conn);
	snprintf(cfg.settings, sizeof(cfg.settings), "%s", BENCH_SETTINGS_SQL);
	/* Statements per snapshot, from the server's log (untimed, first). */
	if (cfg.server_log) {
		long rss;
		double ms;

		log_from = bench_file_size(cfg.server_log);
		if (log_from < 0)
			bench_die("%s: %s", cfg.server_log, strerror(errno));
		if (bench_cli_snapshot(&cfg, "PGOPTIONS=-c log_statement=all", &rss, &ms) != 0) {
			fprintf(stderr, "bench_snapshot: `%s snapshot` with log_statement=all failed "
				"(a superuser DSN is needed), see %s/cli.err; statements not counted\n",
				cfg.cli, cfg.tmpdir);
		} else {
			stmts = bench_count_statements(cfg.server_log, log_from, &stmts_total,
						       cfg.settings, sizeof(cfg.settings));
			if (stmts == 0 && stmts_total > 0)
				fprintf(stderr, "bench_snapshot: log_line_prefix has no %%a; "
					"counting every statement logged meanwhile\n");
			if (stmts == 0)
				stmts = stmts_total;
		}
	}

	bench_write_bare_sql(&cfg, shape.server_version_num);
	{
		int n_queries = 0;
		while (catalog_query_text(shape.server_version_num, n_queries))
			n_queries++;
		/* BEGIN, settings, the queries, COMMIT */
		if (stmts >= 0 && stmts != n_queries + 3)
			fprintf(stderr, "bench_snapshot: warning: the snapshot sent %d statements, "
				"the bare read sends %d\n", stmts, n_queries + 3);
	}

	fprintf(stderr, "bench_snapshot: %s: %s on PostgreSQL %s, %d iteration(s)%s\n",
		cfg.label, shape.database, shape.server_version, cfg.k,
		cfg.warmup ? " after a warm-up round" : "");

	load_start = bench_loadavg();
	/* Interleaved, so that slow drift of the machine hits all alike. */
	rounds = cfg.k + (cfg.warmup ? 1 : 0);
	for (int it = 0; it < rounds; it++) {
		bool timed = !cfg.warmup || it > 0;

		for (int step = 0; step < 6; step++) {
			switch ((step + it) % 6) {
			case 0: {
				double rd, wr;
				size_t bytes;
				struct model *m = bench_ours(&cfg, &rd, &wr, &bytes);
				if (timed) {
					bench_add(&ours, rd + wr);
					bench_add(&ours_read, rd);
					bench_add(&ours_write, wr);
				}
				snap_bytes = bytes;
				n_objects = m->n_objects;
				model_free(m);
				break;
			}
			case 1: {
				double ms = bench_bare(&cfg);
				if (timed)
					bench_add(&bare, ms);
				break;
			}
			case 2: {
				if (!cfg.pg_dump_run)
					break;
				double ms = bench_pgdump(&cfg);
				if (timed)
					bench_add(&dump, ms);
				break;
			}
			case 3: {
				long rss;
				double ms;
				int st = bench_cli_snapshot(&cfg, NULL, &rss, &ms);
				if (st != 0)
					bench_die("`%s snapshot` exited with %d, see %s/cli.err",
						  cfg.cli, st, cfg.tmpdir);
				if (timed)
					bench_add(&cli, ms);
				if (rss > max_rss)
					max_rss = rss;
				break;
			}
			case 4: {
				double ms = bench_bare_libpq(&cfg, shape.server_version_num);
				if (timed)
					bench_add(&bare_pq, ms);
				break;
			}
			case 5: {
				double rd, wr;
				size_t bytes;
				struct model *m;

				if (!cfg.baseline_dsn)
					break;
				m = bench_ours_on(cfg.baseline_dsn, &rd, &wr, &bytes);
				if (timed)
					bench_add(&base, rd + wr);
				model_free(m);
				break;
			}
			}
		}
		fprintf(stderr, "bench_snapshot: %s: round %d/%d done\n", cfg.label, it + 1, rounds);
	}

	/* Diff: A, a small change, B, change reverted. */
	error_clear(&err);
	{
		double rd, wr;
		size_t bytes;
		struct model *m;

		a_model = bench_ours(&cfg, &rd, &wr, &bytes);
		if (snapshot_save(a_model, path_a, &err) < 0)
			bench_die("%s", err.text);
		conn = bench_connect(&cfg);
		if (cfg.drift)
			drifted = bench_drift(conn, true, drift_table, sizeof(drift_table));
		m = bench_ours(&cfg, &rd, &wr, &bytes);
		if (drifted)
			bench_drift(conn, false, drift_table, sizeof(drift_table));
		PQfinish(conn);
		if (snapshot_save(m, path_b, &err) < 0)
			bench_die("%s", err.text);
		model_free(m);
		model_free(a_model);
	}
	for (int it = 0; it < rounds; it++) {
		bool timed = !cfg.warmup || it > 0;
		struct model *a = NULL, *b = NULL;
		struct diff *d = NULL;
		double t0, t1, t2, t3;
		FILE *devnull;

		t0 = bench_now_ms();
		/* What `schemadrift diff A B` does: build only what differs (or
		 * read both whole when that cannot be exact). */
		int lr = snapshot_load_differing(path_a, path_b, &a, &b, &err);
		if (lr == -EAGAIN && (snapshot_load(path_a, &a, &err) < 0 ||
				      snapshot_load(path_b, &b, &err) < 0))
			lr = -EIO;
		else if (lr == -EAGAIN)
			lr = 0;
		if (lr < 0)
			bench_die("%s", err.text);
		t1 = bench_now_ms();
		if (diff_models(a, b, &d) < 0)
			bench_die("diff_models failed");
		t2 = bench_now_ms();
		devnull = fopen("/dev/null", "w");
		if (!devnull || diff_write_text(d, devnull, DIFF_TEXT_EXPLAIN, NULL) < 0)
			bench_die("diff_write_text failed");
		fclose(devnull);
		t3 = bench_now_ms();
		n_changes = d->n_changes;
		diff_free(d);
		model_free(a);
		model_free(b);
		if (timed) {
			bench_add(&load, t1 - t0);
			bench_add(&dmodels, t2 - t1);
			bench_add(&dtext, t3 - t2);
			bench_add(&dtotal, t3 - t0);
		}
	}
	/* The CLI on the two files, as a user runs it: time and peak RSS. */
	for (int it = 0; it < rounds; it++) {
		bool timed = !cfg.warmup || it > 0;
		const char *dargs[] = {"diff", path_a, path_b, NULL}, *hargs[] = {"hash", path_a, NULL};
		long rss;
		double ms;
		int st = bench_cli(&cfg, NULL, dargs, &rss, &ms);

		if (st != (drifted ? 1 : 0))
			bench_die("`%s diff` exited with %d, see %s/cli.err", cfg.cli, st, cfg.tmpdir);
		if (timed)
			bench_add(&cli_diff, ms);
		if (rss > diff_rss)
			diff_rss = rss;
		if ((st = bench_cli(&cfg, NULL, hargs, &rss, &ms)) != 0)
			bench_die("`%s hash` exited with %d, see %s/cli.err", cfg.cli, st, cfg.tmpdir);
		if (timed)
			bench_add(&cli_hash, ms);
		if (rss > hash_rss)
			hash_rss = rss;
	}

	load_end = bench_loadavg();
	{
		double m_ours = bench_median(&ours), m_bare = bench_median(&bare);
		double m_dump = bench_median(&dump), m_dtotal = bench_median(&dtotal);
		double m_dmodels = bench_median(&dmodels);

		printf("\n%s: database %s on PostgreSQL %s\n", cfg.label, shape.database,
		       shape.server_version);
		printf("  shape: %ld schemas, %ld relations (%ld tables, %ld sequences), "
		       "%ld columns, %ld indexes, %ld constraints\n",
		       shape.schemas, shape.relations, shape.tables, shape.sequences,
		       shape.columns, shape.indexes, shape.constraints);
		printf("  model: %zu objects, snapshot %.1f MiB\n", n_objects,
		       (double)snap_bytes / 1048576.0);
		printf("  %-34s %10s %10s %10s   (ms, %d runs)\n", "", "median", "min", "max",
		       cfg.k);
		bench_row(&ours);
		bench_row(&ours_read);
		bench_row(&ours_write);
		bench_row(&bare);
		bench_row(&bare_pq);
		if (cfg.pg_dump_run)
			bench_row(&dump);
		bench_row(&cli);
		if (cfg.baseline_dsn)
			bench_row(&base);
		bench_row(&load);
		bench_row(&dmodels);
		bench_row(&dtext);
		bench_row(&dtotal);
		bench_row(&cli_diff);
		bench_row(&cli_hash);
		printf("  ratios: ours/bare %.2f   pg_dump/ours %.2f%s   diff total/ours %.2f"
		       "   diff_models/ours %.3f\n",
		       m_ours / m_bare, m_dump / m_ours, cfg.pg_dump_run ? "" : " (not run)",
		       m_dtotal / m_ours, m_dmodels / m_ours);
		if (cfg.baseline_dsn)
			printf("  ours on %s / ours on the baseline: %.2f (medians %.0f / %.0f ms)\n",
			       shape.server_version, m_ours / bench_median(&base), m_ours,
			       bench_median(&base));
		printf("  CLI vs `schemadrift snapshot`: diff A B %.3f of its time, %.2f of its RSS;"
		       " hash A %.3f of its time, %.2f of its RSS\n",
		       bench_median(&cli_diff) / bench_median(&cli),
		       (double)diff_rss / (double)max_rss, bench_median(&cli_hash) / bench_median(&cli),
		       (double)hash_rss / (double)max_rss);
		printf("  peak RSS: snapshot %.1f MiB, diff %.1f MiB, hash %.1f MiB\n",
		       (double)max_rss / 1024.0, (double)diff_rss / 1024.0, (double)hash_rss / 1024.0);
		printf("  diff: %zu change(s)%s%s\n", n_changes,
		       drifted ? " after changing " : " (no change applied: A vs itself)",
		       drifted ? drift_table : "");
		if (stmts >= 0)
			printf("  statements per snapshot (server log): %d\n", stmts);
		else
			printf("  statements per snapshot: not counted (no --server-log)\n");
		printf("  peak RSS of `schemadrift snapshot`: %.1f MiB (max of %d runs)\n",
		       (double)max_rss / 1024.0, rounds);
		printf("  bare read's settings: %s\n", cfg.settings);
		printf("  load average (1 min): %.2f at start, %.2f at end%s\n", load_start,
		       load_end, load_end > 1.5 || load_start > 1.5 ? " -- the machine was busy" : "");
		printf("RESULT label=%s relations=%ld tables=%ld columns=%ld indexes=%ld "
		       "constraints=%ld objects=%zu snapshot_mib=%.1f ours_ms=%.0f read_ms=%.0f "
		       "write_ms=%.0f bare_ms=%.0f bare_libpq_ms=%.0f pgdump_ms=%.0f cli_ms=%.0f ours_over_bare=%.2f "
		       "pgdump_over_ours=%.2f diff_ms=%.0f diff_models_ms=%.1f diff_over_ours=%.2f "
		       "statements=%d rss_mib=%.1f changes=%zu load=%.2f/%.2f "
		       "cli_diff_ms=%.0f cli_hash_ms=%.0f diff_rss_mib=%.1f hash_rss_mib=%.1f "
		       "cli_diff_over_snapshot=%.3f cli_hash_over_snapshot=%.3f "
		       "baseline_ms=%.0f ours_over_baseline=%.2f\n",
		       cfg.label, shape.relations, shape.tables, shape.columns, shape.indexes,
		       shape.constraints, n_objects, (double)snap_bytes / 1048576.0, m_ours,
		       bench_median(&ours_read), bench_median(&ours_write), m_bare, bench_median(&bare_pq), m_dump,
		       bench_median(&cli), m_ours / m_bare, m_dump / m_ours, m_dtotal,
		       m_dmodels, m_dtotal / m_ours, stmts, (double)max_rss / 1024.0, n_changes,
		       load_start, load_end, bench_median(&cli_diff), bench_median(&cli_hash),
		       (double)diff_rss / 1024.0, (double)hash_rss / 1024.0,
		       bench_median(&cli_diff) / bench_median(&cli),
		       bench_median(&cli_hash) / bench_median(&cli), bench_median(&base),
		       cfg.baseline_dsn ? m_ours / bench_median(&base) : 0.0);
	}
	bench_remove_tmpdir(&cfg);
	return fflush(stdout) == 0 ? 0 : 2;
}
