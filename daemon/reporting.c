/* Keeps the HTML report in report_dir current: rewritten on a worker thread after a change. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "report.h"
#include "worker.h"

/*
 * A page is rewritten only after a run that changed something (a new
 * snapshot, a baseline, an acknowledgement, an alert), never after the
 * common quiet run, and off the loop: rendering reads the target's whole
 * history and snapshots, and the atomic write fsyncs.  The index reads every
 * target, so it is one job of its own, asked for with each target's and
 * deduplicated: a burst of changes (every target's first run) rewrites it
 * twice, not once per target.
 */
/* Between two pages written (see job_run). */
#define REPORTING_PAUSE_MS 250

struct reporting {
	struct daemon *d;
	struct worker *worker;
	/* Pages with a job queued or running (a target's name, or "" for the
	 * index); `again`: asked for once more meanwhile, so it runs again when
	 * it is done (it may have read the store before the change). */
	struct pending {
		char *target;
		bool again;
	} *pending;
	size_t n_pending;
};

struct job {
	struct reporting *rp;
	char *target, *state_dir, *report_dir;
	int r;
	struct error err;
	char warning[512];
};

static void job_free(void *arg)
{
	struct job *j = arg;

	free(j->target);
	free(j->state_dir);
	free(j->report_dir);
	free(j);
}

static void job_warn(const char *message, void *data)
{
	struct job *j = data;

	snprintf(j->warning, sizeof(j->warning), "%s", message);
}

/* On the worker thread: touches nothing but the job and the files. */
static void job_run(void *arg)
{
	struct job *j = arg;
	struct report_options o = { .state_dir = j->state_dir, .central = j->rp->d->central,
				    .warn = job_warn, .warn_data = j };

	j->r = report_write_page(&o, j->report_dir, j->target[0] ? j->target : NULL, &j->err);
	/*
	 * Each page is fsync'd twice (file, directory).  Back to back, as when a
	 * fleet starts, those fsyncs kept the journal busy and the loop's own
	 * (a new snapshot's) waited behind them: 60 targets every 5 s ran up
	 * to 2-3 s late instead of 0.5 s (tests/bench/daemon-load.sh, REPORT=1);
	 * 0.5-0.7 s with this pause between pages, 1.5 s with 100 ms.
	 */
	nanosleep(&(struct timespec){ 0, REPORTING_PAUSE_MS * 1000000L }, NULL);
}

static int submit(struct reporting *rp, const char *target);

static void job_done(void *arg)
{
	struct job *j = arg;
	struct reporting *rp = j->rp;
	const char *why = j->r < 0 ? j->err.text : j->warning;

	if (why[0] && j->target[0])
		log_target(LOG_WARNING, j->target, NULL, NULL, "%s the report: %s",
			   j->r < 0 ? "cannot write" : "writing", why);
	else if (why[0])
		log_msg(LOG_WARNING, "%s the report's index: %s", j->r < 0 ? "cannot write" : "writing",
			why);
	for (size_t i = 0; i < rp->n_pending; i++) {
		struct pending *p = &rp->pending[i];
		if (strcmp(p->target, j->target) != 0)
			continue;
		if (p->again && rp->d->config->daemon.report_dir[0] && submit(rp, p->target) == 0) {
			p->again = false;
		} else {
			free(p->target);
			rp->pending[i] = rp->pending[--rp->n_pending];
		}
		break;
	}
	job_free(j);
}

static int submit(struct reporting *rp, const char *target)
{
	const struct config_daemon *c = &rp->d->config->daemon;
	struct job *j = calloc(1, sizeof(*j));
	struct error err;

	if (!j)
		return -ENOMEM;
	j->rp = rp;
	j->target = strdup(target);
	j->state_dir = strdup(c->state_dir);
	j->report_dir = strdup(c->report_dir);
	if (!j->target || !j->state_dir || !j->report_dir ||
	    (!rp->worker && worker_new(rp->d->base, 1, &rp->worker, &err) < 0) ||
	    worker_submit(rp->worker, job_run, job_done, job_free, j) < 0) {
		job_free(j);
		return -ENOMEM;
	}
	return 0;
}

int reporting_new(struct daemon *d, struct reporting **ret)
{
	struct reporting *rp = calloc(1, sizeof(*rp));

	if (!rp)
		return -ENOMEM;
	rp->d = d;
	*ret = rp;
	return 0;
}

/* Queues the page (a target's, or "" for the index) unless it is pending already. */
static void request(struct reporting *rp, const char *target)
{
	struct pending *grown;

	for (size_t i = 0; i < rp->n_pending; i++)
		if (strcmp(rp->pending[i].target, target) == 0) {
			rp->pending[i].again = true;
			return;
		}
	grown = realloc(rp->pending, (rp->n_pending + 1) * sizeof(*grown));
	if (!grown)
		return;
	rp->pending = grown;
	grown[rp->n_pending] = (struct pending){ .target = strdup(target) };
	if (!grown[rp->n_pending].target)
		return;
	if (submit(rp, target) < 0) {
		free(grown[rp->n_pending].target);
		log_msg(LOG_WARNING, "cannot write the report: out of memory");
		return;
	}
	rp->n_pending++;
}

void reporting_changed(struct reporting *rp, const char *target)
{
	if (!rp || !rp->d->config->daemon.report_dir[0])
		return;
	request(rp, target);
	request(rp, "");
}

void reporting_free(struct reporting *rp)
{
	if (!rp)
		return;
	worker_free(rp->worker);
	for (size_t i = 0; i < rp->n_pending; i++)
		free(rp->pending[i].target);
	free(rp->pending);
	free(rp);
}
