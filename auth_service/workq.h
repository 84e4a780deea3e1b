/* workq: worker threads beside the event loop. Jobs wait in a bounded
 * queue, run on a worker, and their results are handed back on the loop
 * thread, so the loop never waits on a hash, a signature or a database.
 * A job is a struct workq_job embedded in the caller's own struct. */
#ifndef AUTH_WORKQ_H
#define AUTH_WORKQ_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct workq_job {
	/* On a worker; state is what thread_init made for that thread. */
	void (*run)(struct workq_job *j, void *state);
	/* On the loop thread, once; cancelled: run never happened (the
	 * queue shut down first). The job may be freed here. */
	void (*done)(struct workq_job *j, bool cancelled);
	struct workq_job *next;
};

struct workq_config {
	const char *name; /* for the log */
	int threads;
	int niceness;     /* added to each worker's nice value (Linux: per
	                     thread), so the loop runs first on a shared core */
	size_t queue_max; /* jobs waiting to run; more is ERR_UNAVAILABLE */
	/* Per-thread state, made on that thread before its first job and
	 * released on it after its last; both may be NULL. */
	void *(*thread_init)(void *arg);
	void (*thread_fini)(void *state);
	void *arg;
};

struct workq;

struct workq *workq_new(
    struct event_base *base, const struct workq_config *cfg, struct err *e);

/* Queues j (the caller's until done). A full or stopping queue is
 * ERR_UNAVAILABLE and j is not taken. */
int workq_submit(struct workq *q, struct workq_job *j, struct err *e);

/* Jobs queued, running or not yet delivered. */
size_t workq_busy(struct workq *q);
/* Jobs waiting for a worker. */
size_t workq_waiting(struct workq *q);
int workq_threads(const struct workq *q);

/* Lets running jobs finish, joins the workers, then delivers every result
 * on the calling thread, queued jobs as cancelled. NULL does nothing. */
void workq_free(struct workq *q);

#endif
