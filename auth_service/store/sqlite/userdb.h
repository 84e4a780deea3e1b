/* userdb: the users table of the SQLite store: lookup, password re-hash
 * and the seed import's reads and writes. */
#ifndef AUTH_USERDB_H
#define AUTH_USERDB_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "store.h"

int userdb_find_user(struct db *db, const char *name, size_t len,
    struct store_user **out, struct err *e);
int userdb_find_user_by_id(
    struct db *db, int64_t id, struct store_user **out, struct err *e);
int userdb_update_password_hash(struct db *db, int64_t id, const char *old_hash,
    const char *new_hash, struct err *e);
int userdb_seed_state(struct db *db, const char *name, size_t len,
    struct store_seed_state *out, struct err *e);
int userdb_seed_user(struct db *db, const struct store_seed_user *u,
    const char *new_hash, const char *expected_seed_hash, int64_t now,
    struct err *e);

/* A registered user (store_ops.create_user). */
int userdb_create_user(struct db *db, const char *name, size_t len,
    const char *hash, char *const *roles, size_t n_roles, int64_t now,
    struct store_user **out, struct err *e);

/* Roles columns: a JSON array of strings, both ways (clients too). */
int userdb_parse_roles(
    const char *text, char ***roles, size_t *n_roles, struct err *e);
char *userdb_roles_json(const char *const *roles, size_t n_roles);

#endif
