/* test_store_pool: the write turn's deadline, without a timed assertion.
 * A write that waited db_busy_timeout_ms for its turn behind another
 * write must give up with ERR_UNAVAILABLE and never run: committed later,
 * it would rotate a refresh token for a client that has gone, and the
 * client's retry would then look like reuse. The first write holds the
 * turn until the second has been answered (or, if the deadline were
 * ignored, for a few seconds, after which the second would run: that is
 * what the test sees, however slow the machine). */
#include <event2/event.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "store_pool.h"
#include "test.h"

#define HOLD_CAP_MS 4000 /* the first write's turn, at most */
#define DEADLINE_MS 200

struct probe {
	struct store_task task; /* first */
	atomic_bool started, ran, done, release;
	struct err result;
};

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Holds the write turn until released (by the second task's answer). */
static int
hold_run(struct store *s, struct store_task *t, struct err *e)
{
	struct probe *p = (struct probe *)t;

	(void)s;
	(void)e;
	atomic_store(&p->started, true);
	for (int waited = 0; waited < HOLD_CAP_MS && !atomic_load(&p->release);
	     waited++)
		sleep_ms(1);
	return 0;
}

static int
mark_run(struct store *s, struct store_task *t, struct err *e)
{
	(void)s;
	(void)e;
	atomic_store(&((struct probe *)t)->ran, true);
	return 0;
}

static struct probe *holder;

static void
probe_done(struct store_task *t, const struct err *e)
{
	struct probe *p = (struct probe *)t;

	p->result = *e;
	atomic_store(&p->done, true);
	if (p != holder)
		atomic_store(&holder->release, true);
}

static void
test_write_past_its_deadline_never_runs(void)
{
	char dir[] = "/tmp/test_store_pool.XXXXXX", path[64];
	struct event_base *base = event_base_new();
	struct store_pool_config cfg = { .database = path,
		.busy_timeout_ms = 1000,
		.threads = 2,
		.queue_max = 16,
		.write_deadline_ms = DEADLINE_MS };
	struct probe first = { .task = { .run = hold_run,
		                   .done = probe_done,
		                   .writes = true } },
	             second = { .task = { .run = mark_run,
		                    .done = probe_done,
		                    .writes = true } };
	struct store_pool *pool = NULL;
	struct store *s;
	struct err e = { 0 };

	CHECK(base != NULL && mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/auth.db", dir);
	CHECK((s = store_open(path, 1000, &e)) != NULL); /* the schema */
	store_free(s);
	CHECK((pool = store_pool_new(base, &cfg, &e)) != NULL);
	if (base == NULL || pool == NULL)
		goto out;
	holder = &first;
	CHECK(store_pool_submit(pool, &first.task, &e) == 0);
	for (int i = 0; i < 10000 && !atomic_load(&first.started); i++)
		sleep_ms(1);
	CHECK(atomic_load(&first.started));
	CHECK(store_pool_submit(pool, &second.task, &e) == 0);
	/* The answers come back on the loop. */
	for (int i = 0; i < 20000 && !(atomic_load(&first.done) &&
	                                 atomic_load(&second.done));
	     i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		sleep_ms(1);
	}
	CHECK(atomic_load(&first.done) && atomic_load(&second.done));
	CHECK(first.result.code == ERR_OK);
	CHECK(second.result.code == ERR_UNAVAILABLE);
	CHECK(!atomic_load(&second.ran));
out:
	store_pool_free(pool);
	if (base != NULL)
		event_base_free(base);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK(system(path) == 0);
}

int
main(void)
{
	RUN(test_write_past_its_deadline_never_runs);
	return test_report();
}
