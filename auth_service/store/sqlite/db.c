/* db: SQLite connection set-up, schema migrations, statement cache and
 * transactions for the store's SQLite backend. */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Migration n takes the schema from user_version n to n + 1. Never edit a
 * shipped step: append one. */
static const char *const db_migrations[DB_SCHEMA_VERSION] = {
	/* 0 -> 1 */
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY,"
	" sub TEXT NOT NULL UNIQUE,"
	" username TEXT NOT NULL UNIQUE,"
	" password_hash TEXT NOT NULL,"
	" seed_hash TEXT," /* the hash last imported from secrets.json */
	" roles TEXT NOT NULL DEFAULT '[]'," /* JSON array of strings */
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	"CREATE TABLE families ("
	" id TEXT PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" client_id TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" revoked_at INTEGER,"
	" revoked_reason TEXT);"
	"CREATE INDEX families_user ON families(user_id);"
	"CREATE INDEX families_expiry ON families(expires_at);"
	"CREATE TABLE refresh_tokens ("
	" id INTEGER PRIMARY KEY,"
	" token_hash BLOB NOT NULL UNIQUE,"
	" family_id TEXT NOT NULL REFERENCES families(id) ON DELETE CASCADE,"
	/* The rotated-from token, for forensics. Not a foreign key: that
	 * would need one more index, one more page written per rotation. */
	" parent_id INTEGER,"
	" issued_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" used_at INTEGER,"
	" revoked_at INTEGER);"
	"CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);",
	/* 1 -> 2: a refresh token is a MAC'd (family, generation) pair
	 * (refresh_token.h), so a family keeps only its live generation and
	 * that token's expiry: one row per login, however often it refreshes.
	 * Tokens issued before this step no longer open: their sessions end. */
	"DROP TABLE refresh_tokens;"
	"ALTER TABLE families ADD COLUMN generation INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE families ADD COLUMN token_expires_at INTEGER NOT NULL"
	" DEFAULT 0;"
	/* One row the readiness check rewrites to prove writes succeed. */
	"CREATE TABLE health_probe ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" at INTEGER NOT NULL);",
	/* 2 -> 3: OAuth 2.0 clients (store.h struct store_client) and the
	 * scope a family was granted (refresh never widens it). */
	"CREATE TABLE clients ("
	" id TEXT PRIMARY KEY,"
	" secret_hash TEXT,"                 /* NULL: a public client */
	" grant_types INTEGER NOT NULL,"     /* store.h STORE_GRANT_* bits */
	" roles TEXT NOT NULL DEFAULT '[]'," /* JSON array of strings */
	" access_ttl INTEGER NOT NULL DEFAULT 0," /* 0: the configured one */
	" created_at INTEGER NOT NULL);"
	"ALTER TABLE families ADD COLUMN scope TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX families_client ON families(client_id);",
	/* 3 -> 4: when the live refresh token was issued (introspection's
	 * iat, RFC 7662 2.2). 0 for families rotated before this step: read
	 * as their created_at, so the migration rewrites no row. */
	"ALTER TABLE families ADD COLUMN token_issued_at INTEGER NOT NULL"
	" DEFAULT 0;",
};

int
db_fail(struct db *db, const char *what, struct err *e)
{
	int code = db != NULL && db->conn != NULL ? sqlite3_errcode(db->conn)
	                                          : SQLITE_ERROR;

	/* A busy database is a retryable condition, not a bug; a broken
	 * constraint (a row deleted by another process between two steps)
	 * says nothing about the database's health; the rest is I/O. */
	return err_set(e,
	    code == SQLITE_BUSY || code == SQLITE_LOCKED ? ERR_UNAVAILABLE
	    : code == SQLITE_CONSTRAINT                  ? ERR_INTERNAL
	                                                 : ERR_IO,
	    "sqlite: %s: %s", what,
	    db != NULL && db->conn != NULL ? sqlite3_errmsg(db->conn)
	                                   : "no connection");
}

static int
exec_sql(struct db *db, const char *sql, const char *what, struct err *e)
{
	if (sqlite3_exec(db->conn, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, what, e);
	return 0;
}

/* mkdir -p of the directory holding path. */
static int
make_parent_dir(const char *path, struct err *e)
{
	char *dir = strdup(path);
	char *slash;
	int rc = -1;

	if (dir == NULL)
		return err_set(e, ERR_NOMEM, "db path");
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir) {
		rc = 0;
		goto out;
	}
	*slash = '\0';
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			err_set(e, ERR_IO, "%s: cannot create: %s", dir,
			    strerror(errno));
			goto out;
		}
		*p = '/';
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		err_set(
		    e, ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

/* The file holds password hashes: create it private before SQLite does.
 * An existing file is never opened here: closing any descriptor of it
 * would drop the POSIX locks this process's other connections hold on it
 * (fcntl locks belong to the process), and another process could then
 * checkpoint and delete the WAL they still use. */
static int
create_private_file(const char *path, struct err *e)
{
	int fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd == -1 && errno == EEXIST)
		return 0;
	if (fd == -1)
		return err_set(
		    e, ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	close(fd);
	return 0;
}

static int
user_version(struct db *db, int *version, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(
	        db->conn, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		db_fail(db, "user_version", e);
		goto out;
	}
	*version = sqlite3_column_int(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int
migrate(struct db *db, struct err *e)
{
	char sql[64];
	int version;

	if (db_begin(db, e) == -1)
		return -1;
	if (user_version(db, &version, e) == -1)
		goto fail;
	if (version > DB_SCHEMA_VERSION) {
		err_set(e, ERR_IO,
		    "database schema version %d is newer than this program's "
		    "%d",
		    version, DB_SCHEMA_VERSION);
		goto fail;
	}
	for (; version < DB_SCHEMA_VERSION; version++) {
		if (exec_sql(db, db_migrations[version], "migration", e) == -1)
			goto fail;
		/* PRAGMA takes no bound parameters; version is our int. */
		snprintf(
		    sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
		if (exec_sql(db, sql, "user_version", e) == -1)
			goto fail;
	}
	return db_commit(db, e);
fail:
	db_rollback(db);
	return -1;
}

int
db_open(const char *path, int busy_timeout_ms, struct db **out, struct err *e)
{
	struct db *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return err_set(e, ERR_NOMEM, "db");
	if (make_parent_dir(path, e) == -1 ||
	    create_private_file(path, e) == -1)
		goto out;
	if (sqlite3_open_v2(path, &db->conn,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	            SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
	        NULL) != SQLITE_OK) {
		db_fail(db, path, e);
		goto out;
	}
	sqlite3_extended_result_codes(db->conn, 0);
	sqlite3_busy_timeout(db->conn, busy_timeout_ms);
	/* WAL: readers never block the writer. synchronous=NORMAL: a commit
	 * is durable against a process crash (kill -9); only a power loss
	 * may drop the last commits, and the file stays consistent. */
	if (sqlite3_prepare_v2(db->conn, "PRAGMA journal_mode = WAL", -1, &st,
	        NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		db_fail(db, "journal_mode WAL", e);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (exec_sql(db,
	        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
	        /* After a checkpoint the WAL file is cut back to this
	         * size, so a burst (a large purge) does not keep it big. */
	        "PRAGMA journal_size_limit = 67108864;"
	        "PRAGMA trusted_schema = OFF;",
	        "pragmas", e) == -1 ||
	    migrate(db, e) == -1)
		goto out;
	*out = db;
	db = NULL;
	rc = 0;
out:
	sqlite3_finalize(st);
	db_free(db);
	return rc;
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	for (size_t i = 0; i < DB_STMT_CACHE; i++)
		sqlite3_finalize(db->cache[i].stmt);
	sqlite3_close(db->conn);
	free(db);
}

sqlite3_stmt *
db_stmt(struct db *db, const char *sql, struct err *e)
{
	size_t i;

	for (i = 0; i < DB_STMT_CACHE && db->cache[i].sql != NULL; i++)
		if (db->cache[i].sql == sql)
			return db->cache[i].stmt;
	if (i == DB_STMT_CACHE) {
		err_set(e, ERR_INTERNAL, "statement cache full");
		return NULL;
	}
	if (sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT,
	        &db->cache[i].stmt, NULL) != SQLITE_OK) {
		db_fail(db, "prepare", e);
		sqlite3_finalize(db->cache[i].stmt);
		db->cache[i].stmt = NULL;
		return NULL;
	}
	db->cache[i].sql = sql;
	return db->cache[i].stmt;
}

void
db_stmt_done(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* A read of a real table, not "SELECT 1" (which never touches the file),
 * plus SQLite's own check that the file is still the one at the path: an
 * open descriptor keeps working after the file is deleted or replaced,
 * and every write would then be lost. */
static const char db_sql_ping[] = "SELECT count(*) FROM (SELECT id FROM"
                                  " users LIMIT 1)";

int
db_ping(struct db *db, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, db_sql_ping, e);
	int moved = 0, rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st) == SQLITE_ROW ? 0 : db_fail(db, "ping", e);
	db_stmt_done(st);
	if (rc == 0 &&
	    sqlite3_file_control(db->conn, "main", SQLITE_FCNTL_HAS_MOVED,
	        &moved) == SQLITE_OK &&
	    moved)
		rc = err_set(e, ERR_IO, "database file moved or deleted");
	return rc;
}

static const char db_sql_probe[] =
    "INSERT INTO health_probe (id, at) VALUES (1, ?1)"
    " ON CONFLICT (id) DO UPDATE SET at = excluded.at";

int
db_ping_write(struct db *db, int64_t now, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, db_sql_probe, e);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, now) == SQLITE_OK &&
	             sqlite3_step(st) == SQLITE_DONE
	         ? 0
	         : db_fail(db, "write probe", e);
	db_stmt_done(st);
	return rc;
}

int
db_checkpoint(struct db *db, int64_t *log_pages, struct err *e)
{
	int log = 0, copied = 0;
	int rc = sqlite3_wal_checkpoint_v2(
	    db->conn, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &copied);

	*log_pages = 0;
	/* Busy: another connection holds the checkpoint lock (one that
	 * committed past the automatic mark, or jwt-admin), and that one
	 * does the work. */
	if (rc == SQLITE_BUSY)
		return 0;
	if (rc != SQLITE_OK)
		return db_fail(db, "checkpoint", e);
	*log_pages = log;
	return 0;
}

static const char db_sql_begin[] = "BEGIN IMMEDIATE";
static const char db_sql_commit[] = "COMMIT";
static const char db_sql_rollback[] = "ROLLBACK";

/* Transaction control through the statement cache: no re-parse per
 * request on the refresh path. */
static int
step_cached(struct db *db, const char *sql, const char *what, struct err *e)
{
	sqlite3_stmt *st = db_stmt(db, sql, e);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, what, e);
	db_stmt_done(st);
	return rc;
}

int
db_begin(struct db *db, struct err *e)
{
	return step_cached(db, db_sql_begin, "begin", e);
}

int
db_commit(struct db *db, struct err *e)
{
	if (step_cached(db, db_sql_commit, "commit", e) == -1) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

void
db_rollback(struct db *db)
{
	struct err ignored = { 0 };

	if (!sqlite3_get_autocommit(db->conn))
		step_cached(db, db_sql_rollback, "rollback", &ignored);
}
