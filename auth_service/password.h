/* password: argon2id hashing (libsodium crypto_pwhash_str_alg) and the
 * worker pool that runs verifications off the event loop, with a bounded
 * queue and results handed back on the loop thread. */
#ifndef AUTH_PASSWORD_H
#define AUTH_PASSWORD_H

#include <event2/event.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define PASSWORD_HASH_MAX crypto_pwhash_STRBYTES

/* Cost of new hashes: t = opslimit passes over memlimit bytes, p = 1
 * (libsodium's argon2id uses one lane). Default t=2, m=19 MiB: the
 * OWASP minimum for argon2id. */
struct password_cost {
	unsigned long long opslimit;
	size_t memlimit;
};

int password_hash(const struct password_cost *cost, const char *pw, size_t len,
    char out[PASSWORD_HASH_MAX], struct err *e);
/* True if pw[0..len) matches the stored string (argon2id or argon2i). */
bool password_verify(const char *hash, const char *pw, size_t len);
/* True if the hash was made with other parameters than cost. */
bool password_needs_rehash(const char *hash, const struct password_cost *cost);
/* True if hash is a string crypto_pwhash_str_verify can use. */
bool password_hash_valid(const char *hash);

struct password_result {
	bool match;
	bool cancelled; /* the pool shut down before running the job */
	char *new_hash; /* a re-hash at the current cost, or NULL */
};

/* Called on the event loop thread; r->new_hash is the callee's to free
 * (secret_free_str). */
typedef void (*password_done_fn)(struct password_result *r, void *arg);

struct password_pool;

/* niceness is added to each worker thread's nice value (Linux: per thread), so
 * that when the workers and the event loop want the same core the loop
 * runs first; idle cores still go to hashing. */
struct password_pool *password_pool_new(struct event_base *base, int threads,
    int niceness, size_t queue_max, const struct password_cost *cost,
    struct err *e);

/* Queues a verification of pw against hash (both copied; the copy of pw
 * is wiped after use). With rehash, a match whose hash is below the cost
 * yields a new hash. A full queue is ERR_UNAVAILABLE. */
int password_pool_verify(struct password_pool *p, const char *hash,
    const char *pw, size_t len, bool rehash, password_done_fn done, void *arg,
    struct err *e);

/* Jobs queued, running or not yet delivered. */
size_t password_pool_busy(struct password_pool *p);
int password_pool_threads(const struct password_pool *p);

/* Lets running jobs finish, joins the workers, then delivers every result
 * on the calling thread, queued jobs as cancelled. NULL does nothing. */
void password_pool_free(struct password_pool *p);

#endif
