/* admin_db: the user operations jwt-admin needs that the store interface
 * (store.h) does not offer yet: list, delete, set a password without
 * touching the seed state, and revoke a user's refresh-token families.
 * SQLite only, on its own connection (db.h), one transaction per call.
 * They belong in struct store_ops once a second backend exists. */
#ifndef AUTH_ADMIN_DB_H
#define AUTH_ADMIN_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "store.h"

struct admin_db_user {
	char *username;
	char sub[STORE_SUB_LEN + 1];
	char *roles; /* the JSON array as stored */
	int64_t created_at, updated_at;
	int64_t sessions; /* refresh-token families neither revoked nor
	                     expired */
};

/* All users, ordered by name. */
int admin_db_list_users(struct db *db, int64_t now, struct admin_db_user **out,
    size_t *n, struct err *e);
void admin_db_users_free(struct admin_db_user *u, size_t n);

/* Replaces the password hash and revokes every live family of the user
 * (a new password ends the sessions the old one opened), in one
 * transaction. The seed hash is left alone, so the next secrets.json
 * import still sees its own entry as unchanged and keeps this password.
 * *found false: no such user. *revoked: families revoked. */
int admin_db_set_password(struct db *db, const char *name, const char *hash,
    int64_t now, bool *found, int64_t *revoked, struct err *e);

/* Deletes the user; its families and refresh tokens go with it (ON DELETE
 * CASCADE). *found false: no such user. */
int admin_db_delete_user(
    struct db *db, const char *name, bool *found, struct err *e);

#endif
