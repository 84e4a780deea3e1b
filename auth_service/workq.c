/* workq: a bounded job queue served by worker threads; results return to
 * the event loop through one event_active'd event. */
#include "workq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"

struct job_list {
	struct workq_job *head, *tail;
	size_t n;
};

struct workq {
	struct workq_config cfg;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job_list queue, finished;
	size_t busy;
	bool stopping;
	struct event *done_ev; /* activated by workers, runs on the loop */
	pthread_t *threads;
	int n_threads;
};

static void
list_push(struct job_list *l, struct workq_job *j)
{
	j->next = NULL;
	if (l->tail != NULL)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	l->n++;
}

static struct workq_job *
list_pop(struct job_list *l)
{
	struct workq_job *j = l->head;

	if (j == NULL)
		return NULL;
	l->head = j->next;
	if (l->head == NULL)
		l->tail = NULL;
	l->n--;
	return j;
}

static void
lower_priority(const struct workq *q)
{
	id_t self = (id_t)gettid();
	int current;

	if (q->cfg.niceness <= 0)
		return;
	/* Linux: PRIO_PROCESS with a thread id sets that thread only. */
	errno = 0;
	current = getpriority(PRIO_PROCESS, self);
	if (errno == 0 &&
	    setpriority(PRIO_PROCESS, self, current + q->cfg.niceness) == -1)
		log_msg(LOG_DEBUG, "%s worker keeps its priority", q->cfg.name);
}

static void *
worker_main(void *arg)
{
	struct workq *q = arg;
	struct workq_job *j;
	void *state = NULL;

	lower_priority(q);
	if (q->cfg.thread_init != NULL)
		state = q->cfg.thread_init(q->cfg.arg);
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->stopping && q->queue.n == 0)
			pthread_cond_wait(&q->wake, &q->lock);
		if (q->stopping)
			break;
		j = list_pop(&q->queue);
		pthread_mutex_unlock(&q->lock);
		j->run(j, state);
		pthread_mutex_lock(&q->lock);
		list_push(&q->finished, j);
		/* Thread-safe with evthread_use_pthreads(): wakes the loop. */
		event_active(q->done_ev, EV_READ, 0);
	}
	pthread_mutex_unlock(&q->lock);
	if (q->cfg.thread_fini != NULL)
		q->cfg.thread_fini(state);
	return NULL;
}

static void
deliver(struct workq *q, struct workq_job *j, bool cancelled)
{
	pthread_mutex_lock(&q->lock);
	q->busy--;
	pthread_mutex_unlock(&q->lock);
	j->done(j, cancelled);
}

/* On the loop thread: hand every finished job to its callback. */
static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct workq *q = arg;
	struct job_list ready;
	struct workq_job *j;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&q->lock);
	ready = q->finished;
	q->finished = (struct job_list){ 0 };
	pthread_mutex_unlock(&q->lock);
	while ((j = list_pop(&ready)) != NULL)
		deliver(q, j, false);
}

struct workq *
workq_new(
    struct event_base *base, const struct workq_config *cfg, struct err *e)
{
	struct workq *q = calloc(1, sizeof(*q));

	if (q == NULL) {
		err_set(e, ERR_NOMEM, "%s pool", cfg->name);
		return NULL;
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	q->cfg = *cfg;
	if ((q->done_ev = event_new(base, -1, 0, done_cb, q)) == NULL ||
	    (q->threads = calloc((size_t)cfg->threads, sizeof(*q->threads))) ==
	        NULL) {
		err_set(e, ERR_NOMEM, "%s pool", cfg->name);
		workq_free(q);
		return NULL;
	}
	for (; q->n_threads < cfg->threads; q->n_threads++) {
		if (pthread_create(
		        &q->threads[q->n_threads], NULL, worker_main, q) != 0) {
			err_set(e, ERR_INTERNAL, "cannot start a %s worker",
			    cfg->name);
			workq_free(q);
			return NULL;
		}
	}
	return q;
}

int
workq_submit(struct workq *q, struct workq_job *j, struct err *e)
{
	pthread_mutex_lock(&q->lock);
	if (q->stopping || q->queue.n >= q->cfg.queue_max) {
		pthread_mutex_unlock(&q->lock);
		return err_set(
		    e, ERR_UNAVAILABLE, "%s queue full", q->cfg.name);
	}
	list_push(&q->queue, j);
	q->busy++;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

size_t
workq_busy(struct workq *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->busy;
	pthread_mutex_unlock(&q->lock);
	return n;
}

size_t
workq_waiting(struct workq *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->queue.n;
	pthread_mutex_unlock(&q->lock);
	return n;
}

int
workq_threads(const struct workq *q)
{
	return q->n_threads;
}

void
workq_free(struct workq *q)
{
	struct workq_job *j;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_broadcast(&q->wake);
	pthread_mutex_unlock(&q->lock);
	for (int i = 0; i < q->n_threads; i++)
		pthread_join(q->threads[i], NULL);
	if (q->done_ev != NULL)
		done_cb(-1, 0, q);
	while ((j = list_pop(&q->queue)) != NULL)
		deliver(q, j, true);
	if (q->done_ev != NULL)
		event_free(q->done_ev);
	free(q->threads);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->lock);
	free(q);
}
