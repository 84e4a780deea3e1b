/* admin_db: the SQLite side of the store's operator calls (store.h:
 * list_users, set_password, delete_user), one transaction per call. */
#ifndef AUTH_ADMIN_DB_H
#define AUTH_ADMIN_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "store.h"

/* All users, ordered by name. */
int admin_db_list_users(struct db *db, int64_t now,
    struct store_user_summary **out, size_t *n, struct err *e);

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
