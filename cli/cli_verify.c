/* schemadrift verify: is the live schema what the repository says it should be? */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "diff.h"
#include "snapshot.h"
#include "verify.h"

/*
 * SIGINT, SIGTERM and SIGHUP are taken by a thread of their own while a
 * scratch side exists: it drops the database or stops and removes the
 * embedded cluster, then lets the signal end the process as it would have.
 */
static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scratch *current;

static void on_scratch(struct scratch *s, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&scratch_lock);
	current = s;
	pthread_mutex_unlock(&scratch_lock);
}

static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig = 0;

	if (sigwait(set, &sig) != 0)
		return NULL;
	pthread_mutex_lock(&scratch_lock);
	scratch_cleanup(current); /* the lock stays held: nobody frees it meanwhile */
	signal(sig, SIG_DFL);
	pthread_sigmask(SIG_UNBLOCK, set, NULL);
	raise(sig);
	_exit(128 + sig);
}

static int watch_signals(void)
{
	static sigset_t set;
	pthread_t t;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
	    pthread_create(&t, NULL, signal_thread, &set) != 0)
		return -1;
	pthread_detach(t);
	return 0;
}

/* --target NAME: the baseline as a third side, filtered the same way. */
static int three_way(const struct cli *c, const struct verify_result *r, struct model **ret_base,
		     struct diff **ret_live, struct diff **ret_expected)
{
	char ref[1024];
	struct model *base = NULL;

	snprintf(ref, sizeof(ref), "%s@baseline", c->target);
	if (cli_load_store_side(c, ref, &base) < 0)
		return -1;
	if (filter_apply(base, &r->filter) < 0 || snapshot_hash(base) < 0 ||
	    diff_models(base, r->live, ret_live) < 0 ||
	    diff_models(base, r->expected, ret_expected) < 0) {
		cli_fail("out of memory while comparing with the baseline");
		model_free(base);
		return -1;
	}
	*ret_base = base;
	return 0;
}

static int verify_command(const struct cli *c, const struct verify_options *opts, int argc,
			  const char *fmt);

int cli_cmd_verify(const struct cli *c, int argc, char **argv)
{
	const char *fmt = c->format ? c->format : "text";
	struct verify_options o = {
		.dsn = c->dsn,
		.expected = c->expected,
		.expected_format = c->expected_format,
		.expected_cmd = c->expected_cmd,
		.scratch = { .dsn = c->scratch_dsn, .pg_bindir = c->pg_bindir,
			     .connect_timeout_s = (c->connect_timeout_ms + 999) / 1000 },
		.filter = &c->filter,
		.partitions_full = c->partitions_full,
		.connect_timeout_ms = c->connect_timeout_ms,
		.on_scratch = on_scratch,
	};
	int status;
	/* schemadriftd hands over the target's password here, never in argv; no
	 * child (initdb, postgres, --expected-cmd) may inherit it. */
	char *password = getenv("SCHEMADRIFT_TARGET_PASSWORD");

	if (password) {
		password = strdup(password);
		unsetenv("SCHEMADRIFT_TARGET_PASSWORD");
	}
	o.password = password;
	(void)argv;
	status = verify_command(c, &o, argc, fmt);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return status;
}

static int verify_command(const struct cli *c, const struct verify_options *opts, int argc,
			  const char *fmt)
{
	struct verify_result *r = NULL;
	struct verify_baseline b = { 0 }, *bp = NULL;
	struct model *base = NULL;
	struct diff *to_live = NULL, *to_expected = NULL;
	struct error err;
	char base_hex[65];
	int status = EXIT_TROUBLE, w = 0;

	if (argc != 0 || !c->dsn || !c->expected == !c->expected_cmd) {
		cli_fail("verify needs --dsn DSN and either --expected PATH or --expected-cmd "
			 "COMMAND (see --help)");
		return EXIT_TROUBLE;
	}
	if (strcmp(fmt, "text") && strcmp(fmt, "json") && strcmp(fmt, "junit") &&
	    strcmp(fmt, "github")) {
		cli_fail("unknown --format '%s' (text, json, junit or github)", fmt);
		return EXIT_TROUBLE;
	}
	if (watch_signals() < 0) {
		cli_fail("cannot watch signals: %s", strerror(errno));
		return EXIT_TROUBLE;
	}
	if (verify_run(opts, &r, &err) < 0) {
		if (strcmp(fmt, "github") == 0)
			verify_github_error(err.text, stdout);
		cli_fail("%s", err.text);
		return EXIT_TROUBLE;
	}
	if (c->timing)
		fprintf(stderr,
			"timing: target %.3f s, history %.3f s, scratch start %.3f s, load %.3f s, "
			"scratch read %.3f s, compare %.3f s\n", r->timing.live, r->timing.history,
			r->timing.scratch_start, r->timing.load, r->timing.scratch_read,
			r->timing.compare);
	if (c->target) {
		if (three_way(c, r, &base, &to_live, &to_expected) < 0)
			goto out;
		snapshot_hash_hex(base->hash, base_hex);
		b = (struct verify_baseline){ c->target, base_hex, to_live, to_expected };
		bp = &b;
	}
	if (strcmp(fmt, "json") == 0) {
		json_t *j = verify_to_json(r, bp);
		w = j ? json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : -1;
		json_decref(j);
		if (w == 0)
			fputc('\n', stdout);
	} else if (strcmp(fmt, "junit") == 0) {
		w = verify_write_junit(r, stdout);
	} else if (strcmp(fmt, "github") == 0) {
		w = verify_write_github(r, stdout);
		for (size_t i = 0; i < r->n_warnings; i++)
			fprintf(stderr, "schemadrift: warning: %s\n", r->warnings[i]);
	} else {
		w = verify_write_text(r, bp, stdout);
	}
	if (strcmp(fmt, "text") && strcmp(fmt, "github"))
		for (size_t i = 0; i < r->n_warnings; i++)
			fprintf(stderr, "schemadrift: warning: %s\n", r->warnings[i]);
	if (w < 0 || fflush(stdout) != 0) {
		cli_fail("cannot write the report: %s", strerror(errno));
		goto out;
	}
	status = verify_status(r) ? EXIT_DIFFERENT : EXIT_SAME;
out:
	diff_free(to_live);
	diff_free(to_expected);
	model_free(base);
	verify_result_free(r);
	return status;
}
