/* password: argon2id hash and verify, and a small worker pool so a login's
 * 15-30 ms of hashing never stalls the event loop. */
#include "password.h"

#include <errno.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"

int
password_hash(const struct password_cost *cost, const char *pw, size_t len,
    char out[PASSWORD_HASH_MAX], struct err *e)
{
	if (crypto_pwhash_str_alg(out, pw, len, cost->opslimit, cost->memlimit,
	        crypto_pwhash_ALG_ARGON2ID13) != 0)
		return err_set(e, ERR_NOMEM, "argon2id: out of memory");
	return 0;
}

bool
password_verify(const char *hash, const char *pw, size_t len)
{
	return crypto_pwhash_str_verify(hash, pw, len) == 0;
}

bool
password_needs_rehash(const char *hash, const struct password_cost *cost)
{
	/* 1: other parameters (or argon2i); -1: not argon2id at all. */
	return crypto_pwhash_str_needs_rehash(
	           hash, cost->opslimit, cost->memlimit) != 0;
}

bool
password_hash_valid(const char *hash)
{
	size_t len = strnlen(hash, PASSWORD_HASH_MAX);

	if (len == 0 || len >= PASSWORD_HASH_MAX)
		return false;
	if (strncmp(hash, "$argon2id$", 10) == 0)
		return crypto_pwhash_argon2id_str_needs_rehash(hash,
		           crypto_pwhash_argon2id_OPSLIMIT_MIN,
		           crypto_pwhash_argon2id_MEMLIMIT_MIN) != -1;
	if (strncmp(hash, "$argon2i$", 9) == 0)
		return crypto_pwhash_argon2i_str_needs_rehash(hash,
		           crypto_pwhash_argon2i_OPSLIMIT_MIN,
		           crypto_pwhash_argon2i_MEMLIMIT_MIN) != -1;
	return false;
}

struct password_job {
	char hash[PASSWORD_HASH_MAX];
	char *pw;
	size_t len;
	bool rehash;
	password_done_fn done;
	void *arg;
	struct password_result result;
	struct password_job *next;
};

struct job_list {
	struct password_job *head, *tail;
	size_t n;
};

struct password_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job_list queue, finished;
	size_t queue_max, busy;
	int nice;
	bool stopping;
	struct password_cost cost;
	struct event *done_ev; /* activated by workers, runs on the loop */
	pthread_t *threads;
	int n_threads;
};

static void
list_push(struct job_list *l, struct password_job *j)
{
	j->next = NULL;
	if (l->tail != NULL)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	l->n++;
}

static struct password_job *
list_pop(struct job_list *l)
{
	struct password_job *j = l->head;

	if (j == NULL)
		return NULL;
	l->head = j->next;
	if (l->head == NULL)
		l->tail = NULL;
	l->n--;
	return j;
}

static void
job_free(struct password_job *j)
{
	if (j == NULL)
		return;
	secret_wipe(j->pw, j->len);
	free(j->pw);
	secret_free_str(j->result.new_hash);
	secret_wipe(j, sizeof(*j));
	free(j);
}

static void
job_run(struct password_pool *p, struct password_job *j)
{
	char fresh[PASSWORD_HASH_MAX];
	struct err e = { 0 };

	j->result.match = password_verify(j->hash, j->pw, j->len);
	if (j->result.match && j->rehash &&
	    password_needs_rehash(j->hash, &p->cost)) {
		if (password_hash(&p->cost, j->pw, j->len, fresh, &e) == 0)
			j->result.new_hash = strdup(fresh);
		else
			log_msg(LOG_WARN, "re-hash failed: %s", e.msg);
		secret_wipe(fresh, sizeof(fresh));
	}
	secret_wipe(j->pw, j->len);
}

static void *
worker_main(void *arg)
{
	struct password_pool *p = arg;
	struct password_job *j;
	id_t self = (id_t)gettid();
	int current;

	/* Linux: PRIO_PROCESS with a thread id sets that thread only. */
	errno = 0;
	current = getpriority(PRIO_PROCESS, self);
	if (p->nice > 0 && errno == 0 &&
	    setpriority(PRIO_PROCESS, self, current + p->nice) == -1)
		log_msg(LOG_DEBUG, "hash worker keeps its priority");
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stopping && p->queue.n == 0)
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->stopping)
			break;
		j = list_pop(&p->queue);
		pthread_mutex_unlock(&p->lock);
		job_run(p, j);
		pthread_mutex_lock(&p->lock);
		list_push(&p->finished, j);
		/* Thread-safe with evthread_use_pthreads(): wakes the loop. */
		event_active(p->done_ev, EV_READ, 0);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void
deliver(struct password_pool *p, struct password_job *j)
{
	j->done(&j->result, j->arg);
	j->result.new_hash = NULL; /* the callee's now */
	job_free(j);
	pthread_mutex_lock(&p->lock);
	p->busy--;
	pthread_mutex_unlock(&p->lock);
}

/* On the loop thread: hand every finished job to its callback. */
static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct password_pool *p = arg;
	struct job_list ready;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&p->lock);
	ready = p->finished;
	p->finished = (struct job_list){ 0 };
	pthread_mutex_unlock(&p->lock);
	for (struct password_job *j = list_pop(&ready); j != NULL;
	     j = list_pop(&ready))
		deliver(p, j);
}

struct password_pool *
password_pool_new(struct event_base *base, int threads, int niceness,
    size_t queue_max, const struct password_cost *cost, struct err *e)
{
	struct password_pool *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		err_set(e, ERR_NOMEM, "password pool");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->queue_max = queue_max;
	p->nice = niceness;
	p->cost = *cost;
	if ((p->done_ev = event_new(base, -1, 0, done_cb, p)) == NULL ||
	    (p->threads = calloc((size_t)threads, sizeof(*p->threads))) ==
	        NULL) {
		err_set(e, ERR_NOMEM, "password pool");
		password_pool_free(p);
		return NULL;
	}
	for (; p->n_threads < threads; p->n_threads++) {
		if (pthread_create(
		        &p->threads[p->n_threads], NULL, worker_main, p) != 0) {
			err_set(e, ERR_INTERNAL, "cannot start hash worker");
			password_pool_free(p);
			return NULL;
		}
	}
	return p;
}

int
password_pool_verify(struct password_pool *p, const char *hash, const char *pw,
    size_t len, bool rehash, password_done_fn done, void *arg, struct err *e)
{
	struct password_job *j = NULL;
	size_t hlen = strlen(hash);

	if (hlen >= PASSWORD_HASH_MAX)
		return err_set(e, ERR_INTERNAL, "stored hash too long");
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->pw = malloc(len + 1)) == NULL) {
		free(j);
		return err_set(e, ERR_NOMEM, "password job");
	}
	memcpy(j->hash, hash, hlen + 1);
	memcpy(j->pw, pw, len);
	j->pw[len] = '\0';
	j->len = len;
	j->rehash = rehash;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&p->lock);
	if (p->stopping || p->queue.n >= p->queue_max) {
		pthread_mutex_unlock(&p->lock);
		job_free(j);
		return err_set(e, ERR_UNAVAILABLE, "hash queue full");
	}
	list_push(&p->queue, j);
	p->busy++;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

size_t
password_pool_busy(struct password_pool *p)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->busy;
	pthread_mutex_unlock(&p->lock);
	return n;
}

int
password_pool_threads(const struct password_pool *p)
{
	return p->n_threads;
}

void
password_pool_free(struct password_pool *p)
{
	struct password_job *j;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	if (p->done_ev != NULL)
		done_cb(-1, 0, p);
	while ((j = list_pop(&p->queue)) != NULL) {
		j->result.cancelled = true;
		deliver(p, j);
	}
	if (p->done_ev != NULL)
		event_free(p->done_ev);
	free(p->threads);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
