/* verify benchmark: verify of one SQL file, in parts, against a plain snapshot of the same database. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "live.h"
#include "verify.h"

/*
 * bench_verify [-k N] --sql FILE [--pg-bin DIR] [--scratch-dsn DSN] DSN
 *
 * DSN is a database into which FILE was loaded.  Each measurement runs N
 * times in this process and its median is printed: the baseline is a plain
 * snapshot of DSN (live_snapshot_run); verify is verify_run() with FILE as
 * the expected schema, once with the embedded throwaway cluster (initdb +
 * postgres per run, as the CLI and the daemon do) and, with --scratch-dsn,
 * once with a database created on an already running server (the
 * alternative for the daemon: a scratch server that stays up).
 */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { P_TOTAL, P_LIVE, P_START, P_LOAD, P_READ, P_COMPARE, P_COUNT };

static int run_verify(const char *dsn, const char *sql, const char *pg_bin,
		      const char *scratch_dsn, int k, double out[P_COUNT], size_t *ret_objects)
{
	double parts[P_COUNT][64];

	for (int i = 0; i < k; i++) {
		struct verify_options o = { .dsn = dsn, .expected = sql,
					    .scratch = { .dsn = scratch_dsn, .pg_bindir = pg_bin } };
		struct verify_result *r = NULL;
		struct error err;
		double t = now_s();

		if (verify_run(&o, &r, &err) < 0) {
			fprintf(stderr, "bench_verify: %s\n", err.text);
			return -1;
		}
		parts[P_TOTAL][i] = now_s() - t;
		parts[P_LIVE][i] = r->timing.live;
		parts[P_START][i] = r->timing.scratch_start;
		parts[P_LOAD][i] = r->timing.load;
		parts[P_READ][i] = r->timing.scratch_read;
		parts[P_COMPARE][i] = r->timing.compare;
		*ret_objects = r->live->n_objects;
		if (verify_status(r) != 0)
			fprintf(stderr, "bench_verify: the loaded file does not match the database "
					"(%zu changes): the figures still stand\n", r->diff->n_changes);
		verify_result_free(r);
	}
	for (int p = 0; p < P_COUNT; p++)
		out[p] = median(parts[p], k) * 1000;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sql", required_argument, NULL, 's' },
		{ "pg-bin", required_argument, NULL, 'b' },
		{ "scratch-dsn", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sql = NULL, *pg_bin = NULL, *scratch = NULL, *dsn;
	double snap[64], emb[P_COUNT], srv[P_COUNT] = { 0 }, snap_ms;
	size_t objects = 0;
	int k = 3, opt;

	while ((opt = getopt_long(argc, argv, "k:", longopts, NULL)) != -1) {
		if (opt == 'k')
			k = atoi(optarg);
		else if (opt == 's')
			sql = optarg;
		else if (opt == 'b')
			pg_bin = optarg;
		else if (opt == 'S')
			scratch = optarg;
		else
			return 2;
	}
	if (optind + 1 != argc || !sql || k < 1 || k > 64) {
		fputs("usage: bench_verify [-k N] --sql FILE [--pg-bin DIR] [--scratch-dsn DSN] DSN\n",
		      stderr);
		return 2;
	}
	dsn = argv[optind];
	for (int i = 0; i < k; i++) {
		struct live_options lo = { .dsn = dsn };
		struct model *m = NULL;
		struct error err;
		double t = now_s();

		if (live_snapshot_run(&lo, &m, &err) < 0) {
			fprintf(stderr, "bench_verify: %s\n", err.text);
			return 1;
		}
		snap[i] = now_s() - t;
		model_free(m);
	}
	snap_ms = median(snap, k) * 1000;
	if (run_verify(dsn, sql, pg_bin, NULL, k, emb, &objects) < 0 ||
	    (scratch && run_verify(dsn, sql, pg_bin, scratch, k, srv, &objects) < 0))
		return 1;
	printf("objects=%zu iterations=%d\n", objects, k);
	printf("%-34s %9s %9s\n", "median of runs", "ms", "/snapshot");
	printf("%-34s %9.0f %9.2f\n", "snapshot (baseline)", snap_ms, 1.0);
	const char *names[P_COUNT] = { "total", "  target snapshot", "  scratch start",
				       "  load the SQL", "  scratch snapshot", "  compare" };
	for (int p = 0; p < P_COUNT; p++)
		printf("verify, embedded: %-16s %9.0f %9.2f\n", names[p], emb[p], emb[p] / snap_ms);
	if (scratch)
		for (int p = 0; p < P_COUNT; p++)
			printf("verify, running server: %-10s %9.0f %9.2f\n", names[p], srv[p],
			       srv[p] / snap_ms);
	printf("RESULT snapshot_ms=%.0f verify_ms=%.0f start_ms=%.0f load_ms=%.0f read_ms=%.0f "
	       "compare_ms=%.0f verify_over_snapshot=%.2f server_verify_ms=%.0f "
	       "server_start_ms=%.0f\n", snap_ms, emb[P_TOTAL], emb[P_START], emb[P_LOAD],
	       emb[P_READ], emb[P_COMPARE], emb[P_TOTAL] / snap_ms, srv[P_TOTAL], srv[P_START]);
	return 0;
}
