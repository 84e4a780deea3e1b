/* db: the SQLite connection of the store: open, pragmas, versioned schema,
 * cached prepared statements and BEGIN IMMEDIATE transactions. One
 * struct db is used by one thread at a time. */
#ifndef AUTH_DB_H
#define AUTH_DB_H

#include <sqlite3.h>
#include <stdint.h>

#include "err.h"

#define DB_SCHEMA_VERSION 4
#define DB_STMT_CACHE 32

struct db_stmt_slot {
	const char *sql; /* a static string: the cache key is its address */
	sqlite3_stmt *stmt;
};

struct db {
	sqlite3 *conn;
	struct db_stmt_slot cache[DB_STMT_CACHE];
};

/* Opens (creating the file with mode 0600 and its directory if missing),
 * sets WAL, synchronous=NORMAL, foreign keys and the busy timeout, and
 * migrates the schema to DB_SCHEMA_VERSION. */
int db_open(
    const char *path, int busy_timeout_ms, struct db **out, struct err *e);
void db_free(struct db *db);

/* A reset statement for sql (static string), prepared once and kept until
 * db_free. The caller binds, steps and calls db_stmt_done on every path. */
sqlite3_stmt *db_stmt(struct db *db, const char *sql, struct err *e);
void db_stmt_done(sqlite3_stmt *st);

/* Writers take the lock up front so two writers never deadlock on an
 * upgrade from a read lock (SQLite: "BEGIN IMMEDIATE"). */
int db_begin(struct db *db, struct err *e);
int db_commit(struct db *db, struct err *e);
void db_rollback(struct db *db);

/* Ready: a table reads and the file at the path is still ours. */
int db_ping(struct db *db, struct err *e);
/* A real write (one row rewritten and committed): fails on a full disk
 * or a read-only file, which a read never notices. */
int db_ping_write(struct db *db, int64_t now, struct err *e);

/* A PASSIVE checkpoint: WAL frames copied into the database file as far
 * as readers allow, without taking the write lock or waiting for anyone.
 * *log_pages: frames in the WAL after it (0 if another connection was
 * checkpointing: nothing to decide then). */
int db_checkpoint(struct db *db, int64_t *log_pages, struct err *e);

/* Sets e from the connection's last error, naming what was being done. */
int db_fail(struct db *db, const char *what, struct err *e);

#endif
