/* purge: batched, paced deletion of long-expired families. */
#include "purge.h"

#include <stdlib.h>
#include <time.h>

#include "log.h"

struct purger {
	struct store_task task; /* first: the pool hands this back */
	struct auth_ctx *ctx;
	struct event *hourly, *next_batch;
	int64_t before, deleted, total;
	bool running;
};

static int
batch_run(struct store *s, struct store_task *t, struct err *e)
{
	struct purger *p = (struct purger *)t;

	return store_purge(s, p->before, PURGE_BATCH, &p->deleted, e);
}

static void batch_start(struct purger *p);

static void
batch_done(struct store_task *t, const struct err *e)
{
	struct purger *p = (struct purger *)t;
	struct timeval pause = { 0, PURGE_PAUSE_MS * 1000 };

	if (e->code != ERR_OK) {
		p->running = false;
		if (!p->ctx->closing)
			log_msg(LOG_WARN, "purge: %s", e->msg);
		return;
	}
	p->total += p->deleted;
	if (p->deleted == PURGE_BATCH && !p->ctx->closing) {
		event_add(p->next_batch, &pause);
		return;
	}
	p->running = false;
	if (p->total > 0)
		log_msg(LOG_INFO, "purge: %lld expired families deleted",
		    (long long)p->total);
}

static void
batch_start(struct purger *p)
{
	struct err e = { 0 };

	if (p->ctx->closing)
		return;
	p->task = (struct store_task){
		.run = batch_run, .done = batch_done, .writes = true
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
	batch_start(arg);
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
	p->before = (int64_t)time(NULL) - PURGE_KEEP;
	batch_start(p);
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
