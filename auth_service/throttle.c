/* throttle: a bounded table of recent failures with exponential, capped
 * delays, keyed by a keyed hash of the username or client address. */
#include "throttle.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define THROTTLE_KEY_LEN 16
#define THROTTLE_NONE UINT32_MAX

struct throttle_entry {
	unsigned char key[THROTTLE_KEY_LEN];
	uint32_t failures;
	uint32_t pending; /* attempts begun whose outcome is not known yet */
	int64_t blocked_until;
	int64_t last_failure;
	uint32_t bucket_next;        /* chain of one hash bucket */
	uint32_t lru_prev, lru_next; /* most recent failure first */
};

struct throttle {
	struct throttle_policy policy[THROTTLE_KINDS];
	struct throttle_entry *entries;
	uint32_t *buckets;
	size_t n_buckets; /* a power of two */
	size_t max, used;
	uint32_t free_head; /* unused entries, chained by bucket_next */
	uint32_t lru_head, lru_tail;
	/* A per-process hash key: nobody can aim many names at one bucket,
	 * and the table never holds a username or address in clear. */
	unsigned char hash_key[crypto_generichash_KEYBYTES];
};

struct throttle *
throttle_new(const struct throttle_policy p[THROTTLE_KINDS], size_t max_entries,
    struct err *e)
{
	struct throttle *t = calloc(1, sizeof(*t));

	if (t == NULL || max_entries == 0 || max_entries >= THROTTLE_NONE / 2)
		goto fail;
	memcpy(t->policy, p, sizeof(t->policy));
	t->max = max_entries;
	for (t->n_buckets = 16; t->n_buckets < max_entries; t->n_buckets *= 2)
		;
	t->entries = calloc(max_entries, sizeof(*t->entries));
	t->buckets = malloc(t->n_buckets * sizeof(*t->buckets));
	if (t->entries == NULL || t->buckets == NULL)
		goto fail;
	for (size_t i = 0; i < t->n_buckets; i++)
		t->buckets[i] = THROTTLE_NONE;
	for (size_t i = 0; i < max_entries; i++)
		t->entries[i].bucket_next =
		    i + 1 < max_entries ? (uint32_t)(i + 1) : THROTTLE_NONE;
	t->free_head = 0;
	t->lru_head = t->lru_tail = THROTTLE_NONE;
	crypto_generichash_keygen(t->hash_key);
	return t;
fail:
	throttle_free(t);
	err_set(e, ERR_NOMEM, "throttle table");
	return NULL;
}

void
throttle_free(struct throttle *t)
{
	if (t == NULL)
		return;
	free(t->entries);
	free(t->buckets);
	sodium_memzero(t->hash_key, sizeof(t->hash_key));
	free(t);
}

size_t
throttle_size(const struct throttle *t)
{
	return t->used;
}

static void
make_key(const struct throttle *t, enum throttle_kind kind, const char *s,
    size_t len, unsigned char out[THROTTLE_KEY_LEN])
{
	crypto_generichash_state st;
	unsigned char k = (unsigned char)kind;

	crypto_generichash_init(
	    &st, t->hash_key, sizeof(t->hash_key), THROTTLE_KEY_LEN);
	crypto_generichash_update(&st, &k, 1);
	crypto_generichash_update(&st, (const unsigned char *)s, len);
	crypto_generichash_final(&st, out, THROTTLE_KEY_LEN);
}

static size_t
bucket_of(const struct throttle *t, const unsigned char key[THROTTLE_KEY_LEN])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h)); /* the key is already a keyed hash */
	return (size_t)(h & (t->n_buckets - 1));
}

static void
lru_unlink(struct throttle *t, uint32_t i)
{
	struct throttle_entry *x = &t->entries[i];

	if (x->lru_prev != THROTTLE_NONE)
		t->entries[x->lru_prev].lru_next = x->lru_next;
	else
		t->lru_head = x->lru_next;
	if (x->lru_next != THROTTLE_NONE)
		t->entries[x->lru_next].lru_prev = x->lru_prev;
	else
		t->lru_tail = x->lru_prev;
}

static void
lru_push_front(struct throttle *t, uint32_t i)
{
	struct throttle_entry *x = &t->entries[i];

	x->lru_prev = THROTTLE_NONE;
	x->lru_next = t->lru_head;
	if (t->lru_head != THROTTLE_NONE)
		t->entries[t->lru_head].lru_prev = i;
	t->lru_head = i;
	if (t->lru_tail == THROTTLE_NONE)
		t->lru_tail = i;
}

static void
remove_entry(struct throttle *t, uint32_t i)
{
	size_t b = bucket_of(t, t->entries[i].key);
	uint32_t *link = &t->buckets[b];

	while (*link != i)
		link = &t->entries[*link].bucket_next;
	*link = t->entries[i].bucket_next;
	lru_unlink(t, i);
	memset(&t->entries[i], 0, sizeof(t->entries[i]));
	t->entries[i].bucket_next = t->free_head;
	t->free_head = i;
	t->used--;
}

/* The entry for key as stored, or THROTTLE_NONE. */
static uint32_t
lookup(const struct throttle *t, const unsigned char key[THROTTLE_KEY_LEN])
{
	uint32_t i = t->buckets[bucket_of(t, key)];

	while (i != THROTTLE_NONE &&
	       sodium_memcmp(t->entries[i].key, key, THROTTLE_KEY_LEN) != 0)
		i = t->entries[i].bucket_next;
	return i;
}

/* The entry for key, or THROTTLE_NONE; a forgotten one is removed. */
static uint32_t
find(struct throttle *t, enum throttle_kind kind,
    const unsigned char key[THROTTLE_KEY_LEN], int64_t now)
{
	uint32_t i = lookup(t, key);

	if (i != THROTTLE_NONE && t->entries[i].pending == 0 &&
	    now - t->entries[i].last_failure >= t->policy[kind].window &&
	    now >= t->entries[i].blocked_until) {
		remove_entry(t, i);
		return THROTTLE_NONE;
	}
	return i;
}

static uint32_t
insert(struct throttle *t, const unsigned char key[THROTTLE_KEY_LEN])
{
	uint32_t i;
	size_t b;

	/* Full: forget the entry whose last failure is oldest. An attacker
	 * flooding the table can thus free a key early, but only by paying
	 * a password hash per entry, and the username key is evicted last
	 * for the user under attack since its failures are the newest. */
	if (t->free_head == THROTTLE_NONE)
		remove_entry(t, t->lru_tail);
	i = t->free_head;
	t->free_head = t->entries[i].bucket_next;
	memcpy(t->entries[i].key, key, THROTTLE_KEY_LEN);
	b = bucket_of(t, key);
	t->entries[i].bucket_next = t->buckets[b];
	t->buckets[b] = i;
	lru_push_front(t, i);
	t->used++;
	return i;
}

int64_t
throttle_wait(struct throttle *t, enum throttle_kind kind, const char *key,
    size_t len, int64_t now)
{
	unsigned char k[THROTTLE_KEY_LEN];
	uint32_t i;

	make_key(t, kind, key, len, k);
	if ((i = find(t, kind, k, now)) == THROTTLE_NONE)
		return 0;
	if (t->entries[i].blocked_until > now)
		return t->entries[i].blocked_until - now;
	/* Once a key has failed, attempts still being checked count as
	 * failures until they are known: otherwise a burst of concurrent
	 * guesses all pass the gate before the next failure is recorded.
	 * Their outcome is a hash away, so the wait is short. A key that
	 * never failed is not held: one user's concurrent logins (devices,
	 * a load test) all go through, and a first burst of guesses is
	 * bounded by the hashing queue and then throttled. */
	if (t->entries[i].pending > 0 && t->entries[i].failures > 0 &&
	    (uint64_t)t->entries[i].failures + t->entries[i].pending >=
	        (uint64_t)t->policy[kind].free_failures)
		return 1;
	return 0;
}

void
throttle_begin(struct throttle *t, enum throttle_kind kind, const char *key,
    size_t len, int64_t now)
{
	unsigned char k[THROTTLE_KEY_LEN];
	uint32_t i;

	make_key(t, kind, key, len, k);
	if ((i = find(t, kind, k, now)) == THROTTLE_NONE) {
		i = insert(t, k);
		/* Not a failure: the quiet window runs from now. */
		t->entries[i].last_failure = now;
	}
	if (t->entries[i].pending < UINT32_MAX)
		t->entries[i].pending++;
}

/* Settles one attempt begun with throttle_begin, before its failure or
 * success is recorded. The entry may be gone (a success forgot it, or a
 * full table evicted it): nothing to settle then. */
void
throttle_end(
    struct throttle *t, enum throttle_kind kind, const char *key, size_t len)
{
	unsigned char k[THROTTLE_KEY_LEN];
	uint32_t i;

	make_key(t, kind, key, len, k);
	if ((i = lookup(t, k)) == THROTTLE_NONE)
		return;
	if (t->entries[i].pending > 0)
		t->entries[i].pending--;
	/* An entry made only to count attempts in flight goes with the last
	 * of them: the table holds keys that failed, as before. */
	if (t->entries[i].pending == 0 && t->entries[i].failures == 0)
		remove_entry(t, i);
}

int64_t
throttle_delay(const struct throttle_policy *p, int64_t failures)
{
	int64_t d;
	uint64_t over;

	if (failures <= p->free_failures)
		return 0;
	over = (uint64_t)(failures - p->free_failures - 1);
	d = p->base_delay;
	/* Doubling stops at the cap: no shift can overflow. */
	for (uint64_t i = 0; i < over && d < p->max_delay; i++)
		d *= 2;
	return d < p->max_delay ? d : p->max_delay;
}

int64_t
throttle_failure(struct throttle *t, enum throttle_kind kind, const char *key,
    size_t len, int64_t now)
{
	unsigned char k[THROTTLE_KEY_LEN];
	struct throttle_entry *x;
	uint32_t i;
	int64_t d;

	make_key(t, kind, key, len, k);
	if ((i = find(t, kind, k, now)) == THROTTLE_NONE)
		i = insert(t, k);
	else {
		lru_unlink(t, i);
		lru_push_front(t, i);
	}
	x = &t->entries[i];
	if (x->failures < UINT32_MAX)
		x->failures++;
	x->last_failure = now;
	d = throttle_delay(&t->policy[kind], x->failures);
	if (d > 0 && now + d > x->blocked_until)
		x->blocked_until = now + d;
	return d;
}

void
throttle_success(
    struct throttle *t, enum throttle_kind kind, const char *key, size_t len)
{
	unsigned char k[THROTTLE_KEY_LEN];
	uint32_t i;

	make_key(t, kind, key, len, k);
	if ((i = lookup(t, k)) != THROTTLE_NONE)
		remove_entry(t, i);
}

const struct throttle_policy *
throttle_policy(const struct throttle *t, enum throttle_kind kind)
{
	return &t->policy[kind];
}
