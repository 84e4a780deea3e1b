/* pg_clients: the clients table of the PostgreSQL store (OAuth 2.0
 * clients: store.h struct store_client), with the SQLite backend's
 * rules. */
#ifndef AUTH_PG_CLIENTS_H
#define AUTH_PG_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pg.h"
#include "store.h"

int pg_find_client(struct pg *pg, const char *client_id, size_t len,
    struct store_client **out, struct err *e);
int pg_add_client(
    struct pg *pg, const struct store_client *c, int64_t now, struct err *e);
int pg_list_clients(
    struct pg *pg, struct store_client **out, size_t *n, struct err *e);
int pg_set_client_secret(struct pg *pg, const char *client_id,
    const char *secret_hash, bool *found, struct err *e);
int pg_delete_client(struct pg *pg, const char *client_id, int64_t now,
    bool *found, int64_t *revoked, struct err *e);

#endif
