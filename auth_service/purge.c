/* purge: batched, paced deletion of long-expired families. */
#include "purge.h"

#include <stdlib.h>
#include <time.h>

#include "log.h"

/* One round: a batch deleted (on the write turn); every PURGE_COPY_EVERY
 * batches the log copied into the database file (off the turn: its fsyncs
 * hold no request), and, once the log has grown to PURGE_LOG_PAGES, the few
 * pages written meanwhile copied on the turn, so that the next write starts
 * the log afresh. Then a pause, and the next round. */
struct purger {
	struct store_task task; /* first: the pool hands this back */
	struct auth_ctx *ctx;
	struct event *hourly, *next_batch;
	int64_t before, deleted, total, log_pages;
	int uncopied; /* batches since the last copy */
	bool running;
};

static void step_start(struct purger *p, const char *what,
    int (*run)(struct store *, struct store_task *, struct err *),
    void (*done)(struct store_task *, const struct err *), bool writes);

static void
purge_end(struct purger *p, const struct err *e)
{
	p->running = false;
	if (e != NULL && e->code != ERR_OK) {
		if (!p->ctx->closing)
			log_msg(LOG_WARN, "purge: %s", e->msg);
		return;
	}
	if (p->total > 0)
		log_msg(LOG_INFO, "purge: %lld expired families deleted",
		    (long long)p->total);
}

/* After a round: the next batch after a pause, or the end. */
static void
round_done(struct purger *p)
{
	struct timeval pause = { 0, PURGE_PAUSE_MS * 1000 };

	if (p->deleted == PURGE_BATCH && !p->ctx->closing)
		event_add(p->next_batch, &pause);
	else
		purge_end(p, NULL);
}

static int
checkpoint_run(struct store *s, struct store_task *t, struct err *e)
{
	struct purger *p = (struct purger *)t;

	return store_checkpoint(s, &p->log_pages, e);
}

static void
catch_up_done(struct store_task *t, const struct err *e)
{
	struct purger *p = (struct purger *)t;

	if (e->code != ERR_OK)
		purge_end(p, e);
	else
		round_done(p);
}

static void
checkpoint_done(struct store_task *t, const struct err *e)
{
	struct purger *p = (struct purger *)t;

	if (e->code != ERR_OK) {
		purge_end(p, e);
		return;
	}
	/* Requests wrote while the copy ran, so the log was never found
	 * fully copied by the next writer and keeps growing: copy the rest
	 * with writers held out (on the turn), before SQLite's automatic
	 * checkpoint would do it, all of it, inside a request's commit. */
	if (p->log_pages >= PURGE_LOG_PAGES)
		step_start(p, "the purge's log catch-up", checkpoint_run,
		    catch_up_done, true);
	else
		round_done(p);
}

static int
batch_run(struct store *s, struct store_task *t, struct err *e)
{
	struct purger *p = (struct purger *)t;

	return store_purge(s, p->before, PURGE_BATCH, &p->deleted, e);
}

static void
batch_done(struct store_task *t, const struct err *e)
{
	struct purger *p = (struct purger *)t;

	if (e->code != ERR_OK) {
		purge_end(p, e);
		return;
	}
	p->total += p->deleted;
	if (p->deleted == 0) {
		purge_end(p, NULL);
		return;
	}
	/* Every few batches, and after the last: a copy is two fsyncs. */
	if (++p->uncopied >= PURGE_COPY_EVERY || p->deleted < PURGE_BATCH) {
		p->uncopied = 0;
		step_start(p, "the purge's log copy", checkpoint_run,
		    checkpoint_done, false);
	} else {
		round_done(p);
	}
}

static void
step_start(struct purger *p, const char *what,
    int (*run)(struct store *, struct store_task *, struct err *),
    void (*done)(struct store_task *, const struct err *), bool writes)
{
	struct err e = { 0 };

	if (p->ctx->closing) {
		p->running = false;
		return;
	}
	p->task = (struct store_task){
		.run = run, .done = done, .writes = writes, .what = what
	};
	if (store_pool_submit(p->ctx->db, &p->task, &e) == -1) {
		/* A full queue: the requests go first; next hour, then. */
		p->running = false;
		log_msg(LOG_WARN, "purge postponed: %s", e.msg);
	}
}

static void
next_batch_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	step_start(arg, "a purge batch", batch_run, batch_done, true);
}

static void
hourly_cb(evutil_socket_t fd, short what, void *arg)
{
	struct purger *p = arg;

	(void)fd;
	(void)what;
	if (p->running)
		return;
	p->running = true;
	p->total = 0;
	p->uncopied = 0;
	p->before = (int64_t)time(NULL) - PURGE_KEEP;
	step_start(p, "a purge batch", batch_run, batch_done, true);
}

struct purger *
purger_new(struct auth_ctx *ctx, struct err *e)
{
	struct purger *p = calloc(1, sizeof(*p));
	struct timeval hour = { PURGE_INTERVAL, 0 };

	if (p == NULL ||
	    (p->hourly = event_new(ctx->base, -1, EV_PERSIST, hourly_cb, p)) ==
	        NULL ||
	    (p->next_batch = event_new(ctx->base, -1, 0, next_batch_cb, p)) ==
	        NULL ||
	    event_add(p->hourly, &hour) == -1) {
		purger_free(p);
		err_set(e, ERR_NOMEM, "purge");
		return NULL;
	}
	p->ctx = ctx;
	hourly_cb(-1, 0, p);
	return p;
}

void
purger_free(struct purger *p)
{
	if (p == NULL)
		return;
	if (p->hourly != NULL)
		event_free(p->hourly);
	if (p->next_batch != NULL)
		event_free(p->next_batch);
	free(p);
}
