/* Worker threads: run a blocking job off the event loop and finish it back on the loop. */
#ifndef SCHEMADRIFT_WORKER_H
#define SCHEMADRIFT_WORKER_H

#include <event2/event.h>

#include "error.h"

/*
 * For libraries that only offer blocking calls (libESMTP).  A worker owns a
 * few threads and one eventfd watched by the loop.  A job's run function
 * executes on a worker thread and must not touch anything the loop owns; its
 * done function is called afterwards on the loop's thread, from the loop.
 * Jobs start in submission order; with one thread they also finish in order.
 *
 * Worker threads block every signal, so a SIGPIPE raised by a write to a
 * closed socket inside a job never reaches the process (it is discarded).
 *
 * All worker_* functions are called on the loop's thread only.
 */
struct worker;

typedef void (*worker_run_fn)(void *arg);
typedef void (*worker_done_fn)(void *arg);
/*
 * Frees arg when done will never be called (the worker was freed first).
 * May run on a worker thread: it must only free what the job owns.
 */
typedef void (*worker_release_fn)(void *arg);

int worker_new(struct event_base *base, unsigned n_threads, struct worker **ret, struct error *err);

/*
 * Queues a job.  done is never called from inside worker_submit().
 * -ENOMEM is the only failure; the job is then not queued.
 */
int worker_submit(struct worker *w, worker_run_fn run, worker_done_fn done,
		  worker_release_fn release, void *arg);

/* Jobs queued or running, not yet completed by done. */
unsigned worker_pending(const struct worker *w);

/*
 * For after the loop has ended: waits up to timeout_ms for the jobs pending to
 * finish and calls their done functions here, as the loop would have.  0 when
 * none is left, -ETIMEDOUT when one is still running.  done must not free w.
 */
int worker_drain(struct worker *w, int timeout_ms);

/*
 * Never blocks on a running job: jobs not yet started and jobs finished but
 * not yet reported are released at once; a job still running is released by
 * its thread when it returns, and that thread then exits.  No done function
 * is called after worker_free() returns, including from inside a done
 * function that frees its own worker.
 */
void worker_free(struct worker *w);

#endif
