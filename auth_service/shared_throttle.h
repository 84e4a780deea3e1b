/* shared_throttle: the failed-login throttle across issuers. When the
 * store is shared by several issuers (PostgreSQL: store_shares_throttle),
 * each failure is also counted in the database and each login first asks
 * it, so failed logins spread over N issuers are throttled at the count
 * of one; the in-memory throttle (throttle.h) keeps its job as the first,
 * local gate. Keys are keyed hashes under a key every issuer derives from
 * the refresh-token key they already share: the database never holds a
 * user name or an address. Functions taking a store run on a database
 * worker. */
#ifndef AUTH_SHARED_THROTTLE_H
#define AUTH_SHARED_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#include "refresh_token.h"
#include "store.h"
#include "throttle.h"

struct shared_throttle_keys {
	unsigned char k[THROTTLE_KINDS][STORE_THROTTLE_KEY_LEN];
};

/* The keys of one login attempt (on the loop: cheap). */
void shared_throttle_keys(const struct refresh_key *secret, const char *user,
    size_t user_len, const char *addr, struct shared_throttle_keys *out);

/* Seconds either key must still wait at wall time now (0: go ahead). */
int shared_throttle_wait(struct store *s, const struct shared_throttle_keys *k,
    int64_t now, int64_t *wait, struct err *e);
/* Counts a failure of both keys; blocks them as the policies say. */
int shared_throttle_failure(struct store *s,
    const struct shared_throttle_keys *k, const struct throttle *policies,
    int64_t now, struct err *e);
/* A successful login forgets its user key (as throttle_success). */
int shared_throttle_success(
    struct store *s, const struct shared_throttle_keys *k, struct err *e);

#endif
