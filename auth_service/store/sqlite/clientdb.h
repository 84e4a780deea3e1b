/* clientdb: the clients table of the SQLite store (OAuth 2.0 clients:
 * store.h struct store_client). */
#ifndef AUTH_CLIENTDB_H
#define AUTH_CLIENTDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "store.h"

int clientdb_find(struct db *db, const char *client_id, size_t len,
    struct store_client **out, struct err *e);
int clientdb_add(
    struct db *db, const struct store_client *c, int64_t now, struct err *e);
int clientdb_list(
    struct db *db, struct store_client **out, size_t *n, struct err *e);
int clientdb_set_secret(struct db *db, const char *client_id,
    const char *secret_hash, bool *found, struct err *e);
int clientdb_delete(struct db *db, const char *client_id, int64_t now,
    bool *found, int64_t *revoked, struct err *e);

#endif
