/* Worker threads: blocking jobs on threads, completions handed to the loop through an eventfd. */
#include "worker.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "isotime.h"

struct job {
	struct job *next;
	worker_run_fn run;
	worker_done_fn done;
	worker_release_fn release;
	void *arg;
};

struct job_list {
	struct job *head, *tail;
};

/*
 * What the threads share with the loop side.  It outlives struct worker when
 * worker_free() finds a job still running: the last of (loop side, threads)
 * to let go frees it, decided under the mutex.
 */
struct shared {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job_list queue; /* not started */
	struct job_list done;  /* finished, waiting for the loop */
	int efd;
	unsigned alive;	  /* threads not yet exited */
	unsigned running; /* jobs inside run() */
	bool closing;	  /* worker_free() was called: release instead of reporting */
	bool loop_gone;	  /* the loop side let go */
};

struct worker {
	struct event_base *base;
	struct event *ev;
	struct shared *sh;
	pthread_t *threads;
	unsigned n_threads;
	unsigned pending;     /* submitted, done not yet called (loop side only) */
	bool *dispatch_freed; /* set while dispatching, so a done that frees us is noticed */
};

static void list_push(struct job_list *l, struct job *j)
{
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct job *list_pop(struct job_list *l)
{
	struct job *j = l->head;

	if (j) {
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
		j->next = NULL;
	}
	return j;
}

static void release_list(struct job *j)
{
	while (j) {
		struct job *next = j->next;

		if (j->release)
			j->release(j->arg);
		free(j);
		j = next;
	}
}

static void shared_free(struct shared *sh)
{
	if (sh->efd >= 0)
		close(sh->efd);
	pthread_cond_destroy(&sh->cv);
	pthread_mutex_destroy(&sh->mu);
	free(sh);
}

/*
 * A write to a socket the peer closed raises SIGPIPE in the writing thread.
 * Ours block every signal, so it stays pending here; take it off so it can
 * never be delivered later.
 */
static void discard_sigpipe(void)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
}

static void wake_loop(int efd)
{
	uint64_t one = 1;

	while (write(efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void *thread_main(void *p)
{
	struct shared *sh = p;
	bool last;

	pthread_mutex_lock(&sh->mu);
	for (;;) {
		struct job *j;

		while (!sh->closing && !sh->queue.head)
			pthread_cond_wait(&sh->cv, &sh->mu);
		if (sh->closing)
			break;
		j = list_pop(&sh->queue);
		sh->running++;
		pthread_mutex_unlock(&sh->mu);

		j->run(j->arg);
		discard_sigpipe();

		pthread_mutex_lock(&sh->mu);
		sh->running--;
		if (sh->closing) {
			pthread_mutex_unlock(&sh->mu);
			release_list(j);
			pthread_mutex_lock(&sh->mu);
			continue;
		}
		list_push(&sh->done, j);
		/* efd stays open while this thread is alive (see shared_free's callers). */
		wake_loop(sh->efd);
	}
	sh->alive--;
	last = sh->alive == 0 && sh->loop_gone;
	pthread_mutex_unlock(&sh->mu);
	if (last)
		shared_free(sh);
	/* This thread's OpenSSL state (its error queue: libesmtp, libcurl and libpq
	 * use OpenSSL here) is freed now, not by a thread-exit destructor that a
	 * process exiting meanwhile never runs (valgrind saw those 904 bytes lost). */
	OPENSSL_thread_stop();
	return NULL;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	bool freed = false;
	uint64_t n;

	(void)what;
	while (read(fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	w->dispatch_freed = &freed;
	for (;;) {
		struct job *j;
		worker_done_fn done;
		void *job_arg;

		pthread_mutex_lock(&sh->mu);
		j = list_pop(&sh->done);
		pthread_mutex_unlock(&sh->mu);
		if (!j)
			break;
		done = j->done;
		job_arg = j->arg;
		free(j);
		w->pending--;
		done(job_arg);
		if (freed)
			return; /* w is gone; worker_free released what was left */
	}
	w->dispatch_freed = NULL;
}

int worker_drain(struct worker *w, int timeout_ms)
{
	int64_t end = isotime_mono_ms() + timeout_ms;

	while (w->pending) {
		struct pollfd p = { .fd = w->sh->efd, .events = POLLIN };
		int64_t left = end - isotime_mono_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) > 0)
			on_wake(w->sh->efd, EV_READ, w);
	}
	return 0;
}

int worker_new(struct event_base *base, unsigned n_threads, struct worker **ret, struct error *err)
{
	struct worker *w;
	struct shared *sh;
	sigset_t all, old;
	int rc;

	if (n_threads == 0)
		n_threads = 1;
	w = calloc(1, sizeof(*w));
	sh = calloc(1, sizeof(*sh));
	if (!w || !sh) {
		free(w);
		free(sh);
		return error_set(err, -ENOMEM, "worker: out of memory");
	}
	w->base = base;
	w->sh = sh;
	pthread_mutex_init(&sh->mu, NULL);
	pthread_cond_init(&sh->cv, NULL);
	sh->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sh->efd < 0) {
		rc = -errno;
		shared_free(sh);
		free(w);
		return error_set(err, rc, "worker: eventfd: %s", strerror(-rc));
	}
	w->ev = event_new(base, sh->efd, EV_READ | EV_PERSIST, on_wake, w);
	if (!w->ev || event_add(w->ev, NULL) < 0) {
		if (w->ev)
			event_free(w->ev);
		shared_free(sh);
		free(w);
		return error_set(err, -ENOMEM, "worker: cannot watch the eventfd");
	}
	w->threads = calloc(n_threads, sizeof(*w->threads));
	if (!w->threads) {
		event_free(w->ev);
		shared_free(sh);
		free(w);
		return error_set(err, -ENOMEM, "worker: out of memory");
	}

	/* Threads inherit the mask: created with everything blocked, no signal lands there. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < n_threads; i++) {
		pthread_mutex_lock(&sh->mu);
		sh->alive++;
		pthread_mutex_unlock(&sh->mu);
		rc = pthread_create(&w->threads[i], NULL, thread_main, sh);
		if (rc != 0) {
			pthread_mutex_lock(&sh->mu);
			sh->alive--;
			pthread_mutex_unlock(&sh->mu);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			w->n_threads = i;
			worker_free(w);
			return error_set(err, -rc, "worker: pthread_create: %s", strerror(rc));
		}
		w->n_threads = i + 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	*ret = w;
	return 0;
}

int worker_submit(struct worker *w, worker_run_fn run, worker_done_fn done,
		  worker_release_fn release, void *arg)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->run = run;
	j->done = done;
	j->release = release;
	j->arg = arg;
	pthread_mutex_lock(&w->sh->mu);
	list_push(&w->sh->queue, j);
	pthread_cond_signal(&w->sh->cv);
	pthread_mutex_unlock(&w->sh->mu);
	w->pending++;
	return 0;
}

unsigned worker_pending(const struct worker *w)
{
	return w->pending;
}

void worker_free(struct worker *w)
{
	struct shared *sh;
	struct job *queued, *finished;
	unsigned running;
	bool last;

	if (!w)
		return;
	sh = w->sh;
	if (w->dispatch_freed)
		*w->dispatch_freed = true;
	event_free(w->ev);

	pthread_mutex_lock(&sh->mu);
	sh->closing = true;
	queued = sh->queue.head;
	finished = sh->done.head;
	sh->queue.head = sh->queue.tail = NULL;
	sh->done.head = sh->done.tail = NULL;
	running = sh->running;
	pthread_cond_broadcast(&sh->cv);
	pthread_mutex_unlock(&sh->mu);
	release_list(queued);
	release_list(finished);

	if (running == 0) {
		/* Nothing can start any more (closing is set under the same lock). */
		for (unsigned i = 0; i < w->n_threads; i++)
			pthread_join(w->threads[i], NULL);
	} else {
		for (unsigned i = 0; i < w->n_threads; i++)
			pthread_detach(w->threads[i]);
	}
	pthread_mutex_lock(&sh->mu);
	sh->loop_gone = true;
	last = sh->alive == 0;
	pthread_mutex_unlock(&sh->mu);
	if (last)
		shared_free(sh);
	free(w->threads);
	free(w);
}
