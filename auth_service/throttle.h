/* throttle: failed-login throttling per username and per client address.
 * After a number of free failures each further one doubles a delay up to a
 * cap, so a guesser gets few tries while the real user waits at most the
 * cap; a quiet window forgets the key. Memory is bounded: a fixed table
 * whose least recently failed entry is evicted when it is full. Keys are
 * stored only as a keyed hash. Not thread-safe: the event loop owns it. */
#ifndef AUTH_THROTTLE_H
#define AUTH_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum throttle_kind { THROTTLE_USER, THROTTLE_ADDR, THROTTLE_KINDS };

struct throttle_policy {
	int64_t free_failures; /* failures before any delay */
	int64_t base_delay;    /* seconds: the first delay */
	int64_t max_delay;     /* seconds: the cap */
	int64_t window;        /* seconds without a failure to forget a key */
};

struct throttle;

struct throttle *throttle_new(const struct throttle_policy p[THROTTLE_KINDS],
    size_t max_entries, struct err *e);
void throttle_free(struct throttle *t);

/* Seconds the key must still wait (0: go ahead). now: monotonic seconds. */
int64_t throttle_wait(struct throttle *t, enum throttle_kind kind,
    const char *key, size_t len, int64_t now);
/* Records a failure; returns the delay it sets (0 while failures are
 * still free). */
int64_t throttle_failure(struct throttle *t, enum throttle_kind kind,
    const char *key, size_t len, int64_t now);
/* An attempt whose outcome is not known yet (a password being hashed):
 * until throttle_end, for a key that has failed before, throttle_wait
 * counts it as a failure once the free failures are used up, so
 * concurrent guesses cannot all slip through.
 * Every throttle_begin is matched by one throttle_end, before the
 * throttle_failure or throttle_success of the same attempt. */
void throttle_begin(struct throttle *t, enum throttle_kind kind,
    const char *key, size_t len, int64_t now);
void throttle_end(
    struct throttle *t, enum throttle_kind kind, const char *key, size_t len);
/* Forgets the key (a successful login for a username). */
void throttle_success(
    struct throttle *t, enum throttle_kind kind, const char *key, size_t len);

/* The delay a count of failures sets under policy p (0 while free). */
int64_t throttle_delay(const struct throttle_policy *p, int64_t failures);
const struct throttle_policy *throttle_policy(
    const struct throttle *t, enum throttle_kind kind);

/* Entries held, for tests and the health report. */
size_t throttle_size(const struct throttle *t);

#endif
