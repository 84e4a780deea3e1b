/* pg_throttle: failed-login state in PostgreSQL, shared by every issuer
 * of the database (store.h: throttle_get, throttle_fail, throttle_block,
 * throttle_clear). */
#ifndef AUTH_PG_THROTTLE_H
#define AUTH_PG_THROTTLE_H

#include <stdint.h>

#include "pg.h"

int pg_throttle_get(struct pg *pg, const unsigned char *key,
    int64_t *blocked_until, struct err *e);
int pg_throttle_fail(struct pg *pg, const unsigned char *key, int64_t now,
    int64_t window, int64_t *failures, struct err *e);
int pg_throttle_block(
    struct pg *pg, const unsigned char *key, int64_t until, struct err *e);
int pg_throttle_clear(struct pg *pg, const unsigned char *key, struct err *e);
/* Deletes at most limit rows quiet since before a day ago (longer than
 * any throttle_window) and not blocked at before. */
int pg_throttle_purge(struct pg *pg, int64_t before, int64_t limit,
    int64_t *deleted, struct err *e);

#endif
