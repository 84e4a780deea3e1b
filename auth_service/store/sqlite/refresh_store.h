/* refresh_store: refresh-token families in SQLite: one row per login,
 * single-use rotation decided by a conditional UPDATE of the family's
 * generation inside one BEGIN IMMEDIATE transaction, and reuse detection
 * that revokes the whole family (RFC 9700 section 4.14.2). */
#ifndef AUTH_REFRESH_STORE_H
#define AUTH_REFRESH_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "store.h"

int refresh_store_create_family(struct db *db, const char *family_id,
    int64_t user_id, const char *client_id, const char *scope, int64_t now,
    int64_t token_ttl, int64_t family_ttl, struct store_grant *out,
    struct err *e);
int refresh_rotate(struct db *db, const char *family_id, uint64_t generation,
    const char *client_id, int64_t now, int64_t token_ttl,
    struct store_grant *out, struct store_user **user, enum store_refusal *why,
    struct err *e);
int refresh_find_family(struct db *db, const char *family_id,
    struct store_grant *out, bool *found, struct err *e);
int refresh_revoke(struct db *db, const char *family_id, const char *reason,
    int64_t now, struct store_grant *out, bool *found, struct err *e);
int refresh_purge(struct db *db, int64_t before, int64_t limit,
    int64_t *deleted, struct err *e);

#endif
