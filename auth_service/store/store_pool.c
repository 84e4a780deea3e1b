/* store_pool: database work on worker threads, health from its results. */
#include "store_pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define STORE_POOL_WRITE_PROBE_EVERY 10 /* probes between write probes */

struct store_pool {
	struct store_pool_config cfg;
	char *database;
	struct workq *q;
	/* One writer at a time in-process, for SQLite: a waiting writer
	 * then blocks here instead of polling SQLite's busy handler. */
	pthread_mutex_t write_turn;
	pthread_mutex_t health_lock;
	struct store_health health;
	unsigned busy_writes; /* writes refused busy in a row */
	struct event *probe_ev;
	bool probe_in_flight;
	unsigned probes;
	struct store_task probe;
	bool probe_writes;
};

/* A worker's connection. */
struct store_conn {
	struct store_pool *pool;
	struct store *s;
};

static void *
conn_new(void *arg)
{
	struct store_conn *c = calloc(1, sizeof(*c));

	if (c != NULL)
		c->pool = arg;
	return c;
}

static void
conn_free(void *state)
{
	struct store_conn *c = state;

	if (c == NULL)
		return;
	store_free(c->s);
	free(c);
}

static void
health_note(struct store_pool *p, bool writes, const struct err *e)
{
	bool ok = e->code == ERR_OK;

	pthread_mutex_lock(&p->health_lock);
	/* A lock held elsewhere for a moment says nothing about health; a
	 * few writes in a row kept out by one do: readiness then fails
	 * until a write gets through. */
	if (writes && e->code == ERR_UNAVAILABLE &&
	    ++p->busy_writes >= STORE_POOL_BUSY_WRITES && p->health.writable) {
		log_msg(LOG_ERROR, "database: writes kept out: %s", e->msg);
		p->health.writable = false;
		snprintf(
		    p->health.reason, sizeof(p->health.reason), "%s", e->msg);
	}
	if (writes && ok)
		p->busy_writes = 0;
	/* Neither does a refusal such as an unknown token. */
	if (!ok && e->code != ERR_IO) {
		pthread_mutex_unlock(&p->health_lock);
		return;
	}
	if (!ok && (p->health.reachable || p->health.writable))
		log_msg(LOG_ERROR, "database: %s", e->msg);
	if (ok && !(p->health.reachable && (p->health.writable || !writes)))
		log_msg(LOG_INFO, "database: %s again",
		    writes ? "writable" : "reachable");
	if (writes)
		p->health.writable = ok;
	if (ok || !writes)
		p->health.reachable = ok;
	if (!ok)
		snprintf(
		    p->health.reason, sizeof(p->health.reason), "%s", e->msg);
	pthread_mutex_unlock(&p->health_lock);
}

/* The write turn, waited for until the task's deadline (its submission
 * plus write_deadline_ms): past it, the client has most likely given up,
 * and a rotation committed for nobody would make its retry a reuse. */
static int
take_write_turn(struct store_pool *p, const struct store_task *t)
{
	struct timespec until = t->queued;

	if (p->cfg.write_deadline_ms <= 0) {
		pthread_mutex_lock(&p->write_turn);
		return 0;
	}
	until.tv_sec += p->cfg.write_deadline_ms / 1000;
	until.tv_nsec += (p->cfg.write_deadline_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	return pthread_mutex_timedlock(&p->write_turn, &until) == 0 ? 0 : -1;
}

static double
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* Where a slow task's time went: no worker free (queued), a writer ahead
 * (the write turn: a purge batch, another request), the database itself
 * (running: I/O, a checkpoint in the commit) or the CPU work after it
 * (computing: signing). */
static void
slow_note(const struct store_task *t, const struct timespec *start,
    const struct timespec *turn, const struct timespec *ran)
{
	struct timespec end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	if (ms_between(&t->submitted, &end) < STORE_POOL_SLOW_MS)
		return;
	log_msg(LOG_DEBUG,
	    "database: %s took %.1f ms: %.1f queued, %.1f waiting for the "
	    "write turn, %.1f running, %.1f computing",
	    t->what != NULL ? t->what
	    : t->writes     ? "a write"
	                    : "a read",
	    ms_between(&t->submitted, &end), ms_between(&t->submitted, start),
	    ms_between(start, turn), ms_between(turn, ran),
	    ms_between(ran, &end));
}

/* On a worker. */
static void
task_run(struct workq_job *j, void *state)
{
	struct store_task *t = (struct store_task *)j;
	struct store_conn *c = state;
	struct store_pool *p = t->pool;
	struct timespec start, turn, ran;
	bool serial;
	int rc;

	t->result = (struct err){ 0 };
	if (c == NULL) {
		err_set(&t->result, ERR_NOMEM, "store worker");
		return;
	}
	if (c->s == NULL && (c->s = store_open_existing(p->database,
	                         p->cfg.busy_timeout_ms, &t->result)) == NULL) {
		/* Cannot open: unreachable, for reads and writes alike. */
		t->result.code = ERR_IO;
		health_note(p, true, &t->result);
		t->result.code = ERR_UNAVAILABLE;
		return;
	}
	serial = t->writes && c->s->ops->serial_writes;
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (serial && take_write_turn(p, t) == -1) {
		err_set(&t->result, ERR_UNAVAILABLE, "write waited too long");
		health_note(p, true, &t->result);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &turn);
	rc = t->run(c->s, t, &t->result);
	if (serial)
		pthread_mutex_unlock(&p->write_turn);
	clock_gettime(CLOCK_MONOTONIC, &ran);
	if (rc == -1 && t->result.code == ERR_OK)
		err_set(&t->result, ERR_INTERNAL, "store task failed");
	if (rc == 0)
		t->result = (struct err){ 0 };
	health_note(p, t->writes, &t->result);
	if (rc == -1 && t->result.code == ERR_IO) {
		/* The next task starts from a fresh connection. */
		store_free(c->s);
		c->s = NULL;
	}
	if (rc == 0 && t->compute != NULL && t->compute(t, &t->result) == 0)
		t->result = (struct err){ 0 };
	slow_note(t, &start, &turn, &ran);
}

/* On the loop. */
static void
task_done(struct workq_job *j, bool cancelled)
{
	struct store_task *t = (struct store_task *)j;

	if (cancelled)
		err_set(&t->result, ERR_UNAVAILABLE, "shutting down");
	t->done(t, &t->result);
}

int
store_pool_submit(struct store_pool *p, struct store_task *t, struct err *e)
{
	t->job = (struct workq_job){ .run = task_run, .done = task_done };
	t->pool = p;
	clock_gettime(CLOCK_REALTIME, &t->queued); /* timedlock's clock */
	clock_gettime(CLOCK_MONOTONIC, &t->submitted);
	return workq_submit(p->q, &t->job, e);
}

/* The probe: a read, and every few rounds (or while writes fail) a
 * write, so a full disk shows in readiness before a user trips on it. */
static int
probe_run(struct store *s, struct store_task *t, struct err *e)
{
	struct store_pool *p = t->pool;

	if (store_ping(s, e) == -1)
		return -1;
	return p->probe_writes ? store_ping_write(s, (int64_t)time(NULL), e)
	                       : 0;
}

static void
probe_done(struct store_task *t, const struct err *e)
{
	(void)e;
	t->pool->probe_in_flight = false;
}

static void
probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct store_pool *p = arg;
	struct store_health h;
	struct err e = { 0 };

	(void)fd;
	(void)what;
	if (p->probe_in_flight)
		return;
	store_pool_health(p, &h);
	p->probe_writes =
	    !h.writable || p->probes++ % STORE_POOL_WRITE_PROBE_EVERY == 0;
	p->probe = (struct store_task){
		.run = probe_run, .done = probe_done, .writes = p->probe_writes
	};
	if (store_pool_submit(p, &p->probe, &e) == 0)
		p->probe_in_flight = true;
}

struct store_pool *
store_pool_new(
    struct event_base *base, const struct store_pool_config *cfg, struct err *e)
{
	struct store_pool *p = calloc(1, sizeof(*p));
	struct workq_config wc = { .name = "database",
		.threads = cfg->threads,
		.queue_max = cfg->queue_max,
		.thread_init = conn_new,
		.thread_fini = conn_free };

	if (p == NULL || (p->database = strdup(cfg->database)) == NULL) {
		free(p);
		err_set(e, ERR_NOMEM, "store pool");
		return NULL;
	}
	p->cfg = *cfg;
	p->cfg.database = p->database;
	/* Optimistic until work says otherwise: the store opened at start. */
	p->health =
	    (struct store_health){ .reachable = true, .writable = true };
	pthread_mutex_init(&p->write_turn, NULL);
	pthread_mutex_init(&p->health_lock, NULL);
	wc.arg = p;
	if ((p->q = workq_new(base, &wc, e)) == NULL)
		goto fail;
	if (cfg->probe_interval_ms > 0) {
		struct timeval tv = { cfg->probe_interval_ms / 1000,
			(cfg->probe_interval_ms % 1000) * 1000 };
		if ((p->probe_ev = event_new(
		         base, -1, EV_PERSIST, probe_cb, p)) == NULL ||
		    event_add(p->probe_ev, &tv) == -1) {
			err_set(e, ERR_NOMEM, "store probe");
			goto fail;
		}
	}
	return p;
fail:
	store_pool_free(p);
	return NULL;
}

void
store_pool_health(struct store_pool *p, struct store_health *out)
{
	pthread_mutex_lock(&p->health_lock);
	*out = p->health;
	pthread_mutex_unlock(&p->health_lock);
}

size_t
store_pool_busy(struct store_pool *p)
{
	/* The probe is not a request: shutdown does not wait for it. */
	size_t n = workq_busy(p->q);

	return p->probe_in_flight && n > 0 ? n - 1 : n;
}

int
store_pool_threads(const struct store_pool *p)
{
	return workq_threads(p->q);
}

void
store_pool_free(struct store_pool *p)
{
	if (p == NULL)
		return;
	if (p->probe_ev != NULL)
		event_free(p->probe_ev);
	workq_free(p->q);
	pthread_mutex_destroy(&p->write_turn);
	pthread_mutex_destroy(&p->health_lock);
	free(p->database);
	free(p);
}
