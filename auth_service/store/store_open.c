/* store_open: chooses the backend a database setting names, once, at
 * start (a backend's own files include store.h; only this file knows
 * them all). */
#include "store.h"

#include <string.h>
#include <unistd.h>

#include "sqlite_store.h"

/* "sqlite:PATH" or a plain path: the SQLite file's path. */
static const char *
store_sqlite_path(const char *database)
{
	return strncmp(database, "sqlite:", 7) == 0 ? database + 7 : database;
}

bool
store_exists(const char *database)
{
	return access(store_sqlite_path(database), F_OK) == 0;
}

struct store *
store_open(const char *database, int busy_timeout_ms, struct err *e)
{
	database = store_sqlite_path(database);
	if (database[0] == '\0') {
		err_set(e, ERR_CONFIG, "database: empty path");
		return NULL;
	}
	return store_open_sqlite(database, busy_timeout_ms, e);
}

struct store *
store_open_existing(const char *database, int busy_timeout_ms, struct err *e)
{
	if (!store_exists(database)) {
		err_set(e, ERR_IO, "database missing (deleted or moved?)");
		return NULL;
	}
	return store_open(database, busy_timeout_ms, e);
}
