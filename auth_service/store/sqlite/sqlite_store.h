/* sqlite_store: the SQLite backend of the store (store.h), one file on
 * one machine; store_open chooses it. */
#ifndef AUTH_SQLITE_STORE_H
#define AUTH_SQLITE_STORE_H

#include "store.h"

/* Opens (creating file and directory if missing) and migrates. */
struct store *store_open_sqlite(
    const char *path, int busy_timeout_ms, struct err *e);

#endif
