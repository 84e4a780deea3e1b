/* password: argon2id hash and verify, and a small worker pool so a login's
 * 15-30 ms of hashing never stalls the event loop. */
#include "password.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "secret.h"
#include "workq.h"

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
	struct workq_job job; /* first: the workq hands this back */
	struct password_pool *pool;
	char hash[PASSWORD_HASH_MAX];
	char *pw;
	size_t len;
	bool rehash;
	password_done_fn done;
	void *arg;
	struct password_result result;
};

struct password_pool {
	struct workq *q;
	struct password_cost cost;
};

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

/* On a worker. */
static void
job_run(struct workq_job *wj, void *state)
{
	struct password_job *j = (struct password_job *)wj;
	const struct password_cost *cost = &j->pool->cost;
	char fresh[PASSWORD_HASH_MAX];
	struct err e = { 0 };

	(void)state;
	j->result.match = password_verify(j->hash, j->pw, j->len);
	if (j->result.match && j->rehash &&
	    password_needs_rehash(j->hash, cost)) {
		if (password_hash(cost, j->pw, j->len, fresh, &e) == 0)
			j->result.new_hash = strdup(fresh);
		else
			log_msg(LOG_WARN, "re-hash failed: %s", e.msg);
		secret_wipe(fresh, sizeof(fresh));
	}
	secret_wipe(j->pw, j->len);
}

/* On the loop. */
static void
job_done(struct workq_job *wj, bool cancelled)
{
	struct password_job *j = (struct password_job *)wj;

	j->result.cancelled = cancelled;
	if (cancelled)
		j->result.match = false;
	j->done(&j->result, j->arg);
	j->result.new_hash = NULL; /* the callee's now */
	job_free(j);
}

struct password_pool *
password_pool_new(struct event_base *base, int threads, int niceness,
    size_t queue_max, const struct password_cost *cost, struct err *e)
{
	struct password_pool *p = calloc(1, sizeof(*p));
	struct workq_config wc = { .name = "hash",
		.threads = threads,
		.niceness = niceness,
		.queue_max = queue_max };

	if (p == NULL) {
		err_set(e, ERR_NOMEM, "password pool");
		return NULL;
	}
	p->cost = *cost;
	if ((p->q = workq_new(base, &wc, e)) == NULL) {
		free(p);
		return NULL;
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
	j->job = (struct workq_job){ .run = job_run, .done = job_done };
	j->pool = p;
	memcpy(j->hash, hash, hlen + 1);
	memcpy(j->pw, pw, len);
	j->pw[len] = '\0';
	j->len = len;
	j->rehash = rehash;
	j->done = done;
	j->arg = arg;
	if (workq_submit(p->q, &j->job, e) == -1) {
		job_free(j);
		return -1;
	}
	return 0;
}

size_t
password_pool_busy(struct password_pool *p)
{
	return workq_busy(p->q);
}

int
password_pool_threads(const struct password_pool *p)
{
	return workq_threads(p->q);
}

void
password_pool_free(struct password_pool *p)
{
	if (p == NULL)
		return;
	workq_free(p->q);
	free(p);
}
