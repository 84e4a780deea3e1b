/* pg: the PostgreSQL connection of the store: connect (libpq URI, its
 * environment and password file), versioned schema migrations, statements
 * prepared once per connection, transactions, and libpq's errors mapped
 * to struct err with any password scrubbed. One struct pg is used by one
 * thread at a time. */
#ifndef AUTH_PG_H
#define AUTH_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define PG_SCHEMA_VERSION 4
#define PG_STMT_CACHE 32

struct pg {
	PGconn *conn;
	char *password; /* from the URL, only to scrub it from messages */
	const char *prepared[PG_STMT_CACHE]; /* static SQL: key by address */
};

/* True for a database setting this backend takes. */
bool pg_is_url(const char *database);

/* Connects and migrates the schema to PG_SCHEMA_VERSION. lock_timeout_ms
 * bounds a wait for a row another transaction holds (as SQLite's busy
 * timeout does). */
int pg_open(
    const char *url, int lock_timeout_ms, struct pg **out, struct err *e);
void pg_free(struct pg *pg);

/* Runs sql (a static string, prepared on first use) with n text
 * parameters (NULL: SQL NULL). Returns the result (PQclear it) or NULL
 * with e set. */
PGresult *pg_exec(struct pg *pg, const char *sql, int n,
    const char *const *params, const char *what, struct err *e);
/* The rows an UPDATE or DELETE changed. */
int64_t pg_changes(const PGresult *res);
/* Column c of row r as a number (0 for NULL). */
int64_t pg_int(const PGresult *res, int r, int c);

/* Formats v as a text parameter. */
#define PG_INT_BUF 24
const char *pg_param_int(char buf[PG_INT_BUF], int64_t v);

/* Text PostgreSQL can take: valid UTF-8 without NUL. A name that is not
 * can match no stored user. */
bool pg_text_ok(const char *s, size_t len);

int pg_begin(struct pg *pg, struct err *e);
int pg_commit(struct pg *pg, struct err *e);
void pg_rollback(struct pg *pg);

int pg_ping(struct pg *pg, struct err *e);
int pg_ping_write(struct pg *pg, int64_t now, struct err *e);

/* Sets e from res (or the connection): a lost connection or a server
 * shutting down is ERR_IO (the pool reconnects), a serialization failure,
 * deadlock, lock timeout or unique violation ERR_UNAVAILABLE (retry). */
int pg_fail(
    struct pg *pg, const PGresult *res, const char *what, struct err *e);

#endif
