/* store_pool: the store off the event loop. Database work runs on worker
 * threads, each with its own connection (opened on first use, reopened
 * after a failure), and its result comes back on the loop: a lock held by
 * another process, a slow disk or a database on another host delays only
 * the requests that need it, never /health, the JWKS or the loop. The
 * pool also keeps the database's health for the readiness check, from
 * real work and a periodic probe, so /health never touches the database
 * itself. */
#ifndef AUTH_STORE_POOL_H
#define AUTH_STORE_POOL_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store.h"
#include "workq.h"

struct store_pool;

#define STORE_POOL_BUSY_WRITES 3
/* A task that kept its caller this long in the pool gets a debug line
 * saying where the time went. */
#define STORE_POOL_SLOW_MS 20

/* One piece of database work. The caller embeds it in its own struct and
 * fills run, done and writes; the rest is the pool's. */
struct store_task {
	struct workq_job job;
	struct store_pool *pool;
	/* On a worker, with that worker's connection. With writes, tasks of
	 * a backend that allows one writer at a time (SQLite) take turns
	 * in-process instead of sleeping in the busy handler. */
	int (*run)(struct store *s, struct store_task *t, struct err *e);
	/* On the same worker after a successful run, without the write turn
	 * and without the database: CPU work such as signing. May be NULL. */
	int (*compute)(struct store_task *t, struct err *e);
	/* On the loop thread, once: e->code is ERR_OK on success. */
	void (*done)(struct store_task *t, const struct err *e);
	bool writes;
	/* The task's name in the pool's debug line for slow tasks (NULL: a
	 * request's "write" or "read"). */
	const char *what;
	struct err result;
	struct timespec queued;    /* when submitted (the pool's) */
	struct timespec submitted; /* the same, monotonic (the pool's) */
};

struct store_pool_config {
	const char *database; /* as store_open takes it */
	int busy_timeout_ms;
	int threads;
	size_t queue_max;
	int64_t probe_interval_ms; /* 0: no probe */
	/* A write that waited this long for its turn is given up with
	 * ERR_UNAVAILABLE rather than committed for a client that has
	 * likely gone (its retry would then look like reuse). */
	int64_t write_deadline_ms;
};

struct store_pool *store_pool_new(struct event_base *base,
    const struct store_pool_config *cfg, struct err *e);

/* Queues t. A full queue (or a pool shutting down) is ERR_UNAVAILABLE:
 * the caller answers 503 with Retry-After. */
int store_pool_submit(
    struct store_pool *p, struct store_task *t, struct err *e);

/* What the last work and probes said. */
struct store_health {
	bool reachable; /* the last read, or probe, succeeded */
	bool writable;  /* the last write, or write probe, succeeded, and
	                   writes are not kept out by a lock held elsewhere
	                   (STORE_POOL_BUSY_WRITES busy failures in a row) */
	char reason[128];
};
void store_pool_health(struct store_pool *p, struct store_health *out);

size_t store_pool_busy(struct store_pool *p);
int store_pool_threads(const struct store_pool *p);

/* Finishes running work, delivers the rest as cancelled (ERR_UNAVAILABLE),
 * closes every connection. NULL does nothing. */
void store_pool_free(struct store_pool *p);

#endif
