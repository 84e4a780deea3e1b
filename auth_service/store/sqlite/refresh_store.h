/* refresh_store: refresh-token families and tokens in SQLite: a family per
 * login, single-use rotation decided by a conditional UPDATE inside one
 * BEGIN IMMEDIATE transaction, and reuse detection that revokes the whole
 * family (RFC 9700 section 4.14.2). */
#ifndef AUTH_REFRESH_STORE_H
#define AUTH_REFRESH_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "store.h"

int refresh_store_create_family(struct db *db, int64_t user_id,
    const char *client_id, const unsigned char token_hash[STORE_HASH_LEN],
    int64_t now, int64_t token_ttl, int64_t family_ttl, struct store_grant *out,
    struct err *e);
int refresh_rotate(struct db *db, const unsigned char old_hash[STORE_HASH_LEN],
    const unsigned char new_hash[STORE_HASH_LEN], int64_t now,
    int64_t token_ttl, struct store_grant *out, struct store_user **user,
    enum store_refusal *why, struct err *e);
int refresh_revoke(struct db *db,
    const unsigned char token_hash[STORE_HASH_LEN], const char *reason,
    int64_t now, struct store_grant *out, bool *found, struct err *e);
int refresh_purge(struct db *db, int64_t before, struct err *e);

#endif
