/* pg_store: the PostgreSQL backend of the store (store.h): one database
 * shared by any number of issuers on any number of hosts; store_open
 * chooses it for a postgresql:// or postgres:// URL. */
#ifndef AUTH_PG_STORE_H
#define AUTH_PG_STORE_H

#include <stdbool.h>

#include "store.h"

/* True for a database setting this backend takes. */
bool store_is_postgres(const char *database);

/* Connects (libpq: the URL, then its environment and password file) and
 * migrates. */
struct store *store_open_postgres(
    const char *url, int busy_timeout_ms, struct err *e);

#endif
