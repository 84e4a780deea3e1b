/* pg_families: refresh-token families in PostgreSQL: one row per login,
 * single-use rotation decided by one conditional UPDATE whose row count
 * is the decision, across processes and hosts, and reuse detection that
 * revokes the whole family (RFC 9700 section 4.14.2). */
#ifndef AUTH_PG_FAMILIES_H
#define AUTH_PG_FAMILIES_H

#include <stdbool.h>
#include <stdint.h>

#include "pg.h"
#include "store.h"

int pg_create_family(struct pg *pg, const char *family_id, int64_t user_id,
    const char *client_id, const char *scope, int64_t now, int64_t token_ttl,
    int64_t family_ttl, struct store_grant *out, struct err *e);
/* A family of another client than client_id is refused with nothing
 * changed (STORE_REFUSED_CLIENT). */
int pg_rotate(struct pg *pg, const char *family_id, uint64_t generation,
    const char *client_id, int64_t now, int64_t token_ttl,
    struct store_grant *out, struct store_user **user, enum store_refusal *why,
    struct err *e);
int pg_revoke(struct pg *pg, const char *family_id, const char *reason,
    int64_t now, struct store_grant *out, bool *found, struct err *e);
/* Reads a family without changing it: *found false for an unknown one. */
int pg_find_family(struct pg *pg, const char *family_id,
    struct store_grant *out, bool *found, struct err *e);
int pg_purge(struct pg *pg, int64_t before, int64_t limit, int64_t *deleted,
    struct err *e);

#endif
