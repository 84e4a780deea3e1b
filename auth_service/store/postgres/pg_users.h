/* pg_users: the users table of the PostgreSQL store: lookup, password
 * re-hash and the seed import's reads and writes. */
#ifndef AUTH_PG_USERS_H
#define AUTH_PG_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "pg.h"
#include "store.h"

int pg_find_user(struct pg *pg, const char *name, size_t len,
    struct store_user **out, struct err *e);
int pg_find_user_by_id(
    struct pg *pg, int64_t id, struct store_user **out, struct err *e);
/* A user from a result row: id, sub, username, password_hash, roles
 * starting at column c. */
int pg_user_from_row(
    const PGresult *res, int c, struct store_user **out, struct err *e);
int pg_update_password_hash(struct pg *pg, int64_t id, const char *old_hash,
    const char *new_hash, struct err *e);
int pg_seed_state(struct pg *pg, const char *name, size_t len,
    struct store_seed_state *out, struct err *e);
int pg_seed_user(struct pg *pg, const struct store_seed_user *u,
    const char *new_hash, const char *expected_seed_hash, int64_t now,
    struct err *e);
/* A registered user (store_ops.create_user): ERR_CONFLICT if taken. */
int pg_create_user(struct pg *pg, const char *name, size_t len,
    const char *hash, char *const *roles, size_t n_roles, int64_t now,
    struct store_user **out, struct err *e);

#endif
