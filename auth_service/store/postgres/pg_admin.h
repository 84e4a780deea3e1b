/* pg_admin: the PostgreSQL side of the store's operator calls (store.h:
 * list_users, set_password, delete_user), one transaction per call. */
#ifndef AUTH_PG_ADMIN_H
#define AUTH_PG_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pg.h"
#include "store.h"

int pg_list_users(struct pg *pg, int64_t now, struct store_user_summary **out,
    size_t *n, struct err *e);
int pg_set_password(struct pg *pg, const char *name, const char *hash,
    int64_t now, bool *found, int64_t *revoked, struct err *e);
int pg_delete_user(struct pg *pg, const char *name, bool *found, struct err *e);

#endif
