/* test_userdb: users in a real database (a SQLite file, or PostgreSQL when
 * JWT_TEST_PG_URL names a server: see store_backend.h): schema and its
 * migrations, lookup, conditional re-hash, and the seed import that never
 * clobbers a later change. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "password.h"
#include "pg.h"
#include "secret.h"
#include "seed.h"
#include "store.h"
#include "store_backend.h"
#include "test.h"
#include "userdb.h"

/* Cheap hashes: these tests are about the database, not the cost. */
static const struct password_cost cheap = { 1, 8192 };

static char dir[] = "/tmp/test_userdb.XXXXXX";
static char path[512];

static struct store *
open_store(void)
{
	struct err e = { 0 };
	struct store *s = store_open(path, 1000, &e);

	/* A store that cannot be opened fails the test that needed it: the
	 * callers return early, and must not pass having checked nothing. */
	CHECK(s != NULL);
	if (s == NULL)
		fprintf(stderr, "open: %s\n", e.msg);
	return s;
}

static int64_t
scalar(const char *sql)
{
	return tb_scalar(path, sql, NULL);
}

/* What an admin tool would do: a new hash, the seed hash untouched. */
static int
set_password_directly(const char *name, const char *hash)
{
	return (int)tb_exec(path,
	    "UPDATE users SET password_hash = ?1 WHERE username = ?2", hash,
	    name);
}

/* A version 1 database (a row per refresh token) moves to version 2: the
 * users stay, the token table goes, families gain their generation. */
static void
test_migration_from_version_1(void)
{
	char old[sizeof(path) + 8];
	sqlite3 *db = NULL;
	struct store *s;
	struct store_user *u = NULL;
	struct err e = { 0 };

	snprintf(old, sizeof(old), "%s.v1", path);
	CHECK(sqlite3_open(old, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
	          "CREATE TABLE users (id INTEGER PRIMARY KEY, sub TEXT NOT "
	          "NULL UNIQUE, username TEXT NOT NULL UNIQUE, password_hash "
	          "TEXT NOT NULL, seed_hash TEXT, roles TEXT NOT NULL DEFAULT "
	          "'[]', created_at INTEGER NOT NULL, updated_at INTEGER NOT "
	          "NULL);"
	          "CREATE TABLE families (id TEXT PRIMARY KEY, user_id INTEGER "
	          "NOT NULL REFERENCES users(id) ON DELETE CASCADE, client_id "
	          "TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at "
	          "INTEGER NOT NULL, revoked_at INTEGER, revoked_reason TEXT);"
	          "CREATE INDEX families_user ON families(user_id);"
	          "CREATE INDEX families_expiry ON families(expires_at);"
	          "CREATE TABLE refresh_tokens (id INTEGER PRIMARY KEY, "
	          "token_hash BLOB NOT NULL UNIQUE, family_id TEXT NOT NULL "
	          "REFERENCES families(id) ON DELETE CASCADE, parent_id "
	          "INTEGER, issued_at INTEGER NOT NULL, expires_at INTEGER NOT "
	          "NULL, used_at INTEGER, revoked_at INTEGER);"
	          "INSERT INTO users VALUES (1, "
	          "'6f1e4f0a-0000-4000-8000-000000000001', 'old', "
	          "'$argon2id$x', NULL, '[\"user\"]', 1, 1);"
	          "INSERT INTO families VALUES ('AAAAAAAAAAAAAAAAAAAAAA', 1, "
	          "'demo-client', 1, 99999999999, NULL, NULL);"
	          "INSERT INTO refresh_tokens VALUES (1, x'00', "
	          "'AAAAAAAAAAAAAAAAAAAAAA', NULL, 1, 99999999999, NULL, "
	          "NULL);"
	          "PRAGMA user_version = 1;",
	          NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK((s = store_open(old, 1000, &e)) != NULL);
	if (s == NULL)
		return;
	CHECK(store_find_user(s, "old", 3, &u, &e) == 0 && u != NULL);
	CHECK(u != NULL && u->n_roles == 1);
	store_user_free(u);
	{
		struct store_grant g;
		bool found = false;
		/* Issued before schema 4 recorded it: the family's creation
		 * stands for the live token's issue time. */
		CHECK(store_find_family(
		          s, "AAAAAAAAAAAAAAAAAAAAAA", &g, &found, &e) == 0 &&
		      found);
		CHECK(found && g.token_issued == 1);
	}
	store_free(s);
	CHECK(sqlite3_open(old, &db) == SQLITE_OK);
	{
		sqlite3_stmt *q = NULL;
		CHECK(
		    sqlite3_prepare_v2(db,
		        "SELECT (SELECT user_version FROM pragma_user_version),"
		        " (SELECT count(*) FROM sqlite_master WHERE name = "
		        "'refresh_tokens'),"
		        " (SELECT generation + token_expires_at FROM families)",
		        -1, &q, NULL) == SQLITE_OK &&
		    sqlite3_step(q) == SQLITE_ROW);
		CHECK(sqlite3_column_int(q, 0) == DB_SCHEMA_VERSION);
		CHECK(sqlite3_column_int(q, 1) == 0);
		/* The old session's token no longer opens: it is expired. */
		CHECK(sqlite3_column_int(q, 2) == 0);
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
	unlink(old);
}

static void
test_schema_and_pragmas(void)
{
	struct store *s = open_store();
	struct stat st;

	CHECK(s != NULL);
	CHECK(scalar("PRAGMA user_version") == DB_SCHEMA_VERSION);
	CHECK(scalar("SELECT count(*) FROM sqlite_master WHERE name IN "
	             "('users','families','health_probe')") == 3);
	/* Refresh tokens are MAC'd family pointers: no table of them. */
	CHECK(scalar("SELECT count(*) FROM sqlite_master WHERE name = "
	             "'refresh_tokens'") == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 077) == 0);
	if (s != NULL) {
		struct db *db = s->impl;
		sqlite3_stmt *q = NULL;
		CHECK(sqlite3_prepare_v2(db->conn, "PRAGMA foreign_keys", -1,
		          &q, NULL) == SQLITE_OK &&
		      sqlite3_step(q) == SQLITE_ROW &&
		      sqlite3_column_int(q, 0) == 1);
		sqlite3_finalize(q);
		CHECK(sqlite3_prepare_v2(db->conn, "PRAGMA journal_mode", -1,
		          &q, NULL) == SQLITE_OK &&
		      sqlite3_step(q) == SQLITE_ROW &&
		      strcmp((const char *)sqlite3_column_text(q, 0), "wal") ==
		          0);
		sqlite3_finalize(q);
	}
	store_free(s);
	/* A second open migrates nothing and keeps the version. */
	s = open_store();
	CHECK(s != NULL);
	CHECK(scalar("PRAGMA user_version") == DB_SCHEMA_VERSION);
	store_free(s);
}

static void
test_refuses_newer_schema(void)
{
	char other[300];
	sqlite3 *db = NULL;
	struct db *d = NULL;
	struct err e = { 0 };

	snprintf(other, sizeof(other), "%s/newer.db", dir);
	CHECK(sqlite3_open(other, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) ==
	      SQLITE_OK);
	sqlite3_close(db);
	CHECK(db_open(other, 100, &d, &e) == -1);
	CHECK(strstr(e.msg, "newer") != NULL);
	unlink(other);
}

static void
test_seed_user_and_lookup(void)
{
	struct store *s = open_store();
	const char *roles[] = { "admin", "user" };
	struct store_seed_user su = { "alice", 5, roles, 2 };
	struct store_user *u = NULL, *v = NULL;
	char h[PASSWORD_HASH_MAX];
	struct err e = { 0 };

	if (s == NULL)
		return;
	CHECK(password_hash(&cheap, "pw", 2, h, &e) == 0);
	CHECK(store_seed_user(s, &su, h, NULL, 100, &e) == 0);
	CHECK(store_find_user(s, "alice", 5, &u, &e) == 0);
	CHECK(u != NULL);
	if (u != NULL) {
		CHECK(strcmp(u->username, "alice") == 0);
		CHECK(u->n_roles == 2 && strcmp(u->roles[0], "admin") == 0 &&
		      strcmp(u->roles[1], "user") == 0);
		CHECK(strlen(u->sub) == 36 && u->sub[14] == '4');
		CHECK(strcmp(u->password_hash, h) == 0);
		CHECK(store_find_user_by_id(s, u->id, &v, &e) == 0);
		CHECK(v != NULL && strcmp(v->sub, u->sub) == 0);
	}
	store_user_free(v);
	/* Lengths count: an embedded NUL or a prefix matches nobody. */
	v = NULL;
	CHECK(store_find_user(s, "alice\0x", 7, &v, &e) == 0 && v == NULL);
	CHECK(store_find_user(s, "alic", 4, &v, &e) == 0 && v == NULL);
	CHECK(store_find_user(s, "ALICE", 5, &v, &e) == 0 && v == NULL);
	CHECK(store_find_user_by_id(s, 424242, &v, &e) == 0 && v == NULL);
	store_user_free(u);
	store_free(s);
}

static void
test_rehash_is_conditional(void)
{
	struct store *s = open_store();
	struct store_user *u = NULL;
	struct err e = { 0 };

	if (s == NULL)
		return;
	CHECK(store_find_user(s, "alice", 5, &u, &e) == 0 && u != NULL);
	if (u == NULL) {
		store_free(s);
		return;
	}
	/* Someone changed the password meanwhile: the re-hash is dropped. */
	CHECK(store_update_password_hash(
	          s, u->id, "$argon2id$stale", "new1", &e) == 0);
	CHECK(scalar("SELECT count(*) FROM users WHERE password_hash = "
	             "'new1'") == 0);
	CHECK(store_update_password_hash(
	          s, u->id, u->password_hash, "new2", &e) == 0);
	CHECK(scalar("SELECT count(*) FROM users WHERE password_hash = "
	             "'new2'") == 1);
	/* The seed hash follows a re-hash of the seeded password. */
	CHECK(
	    scalar("SELECT count(*) FROM users WHERE seed_hash = 'new2'") == 1);
	store_user_free(u);
	store_free(s);
}

static struct seed *
parse_seed(const char *text, struct err *e)
{
	struct seed *sd = NULL;

	*e = (struct err){ 0 };
	if (seed_parse(text, strlen(text), "secrets.json", &sd, e) == -1)
		return NULL;
	return sd;
}

static void
test_seed_file_validation(void)
{
	static const char *const bad[] = {
		"{}",
		"{\"users\":[]}",
		"{\"users\":{\"a\":{}}}",
		"{\"users\":{\"a\":{\"password\":\"x\",\"password_hash\":"
		"\"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo\"}}"
		"}",
		"{\"users\":{\"a\":{\"password\":\"\"}}}",
		"{\"users\":{\"a\":{\"password\":1}}}",
		"{\"users\":{\"a\":{\"password_hash\":\"plaintext\"}}}",
		"{\"users\":{\"a\":{\"password\":\"x\",\"roles\":\"user\"}}}",
		"{\"users\":{\"a\":{\"password\":\"x\",\"roles\":[\"\"]}}}",
		"{\"users\":{\"a\":{\"password\":\"x\",\"roles\":[\"u\\u0000\"]"
		"}}}",
		"{\"users\":{\"\":{\"password\":\"x\"}}}",
		"{\"users\":{\"a\":{\"password\":\"x\"}}} trailing",
	};
	struct seed *sd;
	struct err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sd = parse_seed(bad[i], &e);
		CHECK(sd == NULL);
		CHECK(e.code == ERR_CONFIG &&
		      strstr(e.msg, "secrets.json") != NULL);
		seed_free(sd);
	}
	sd = parse_seed("{\"users\":{\"a\":{\"password\":\"p\\u0000q\","
	                "\"roles\":[\"user\"]},\"b\":{\"password\":\"x\"}}}",
	    &e);
	CHECK(sd != NULL);
	if (sd != NULL) {
		CHECK(sd->n_users == 2);
		CHECK(sd->users[0].password_len == 3);
		CHECK(sd->users[1].n_roles == 0);
	}
	seed_free(sd);
}

static void
test_seed_import_keeps_later_changes(void)
{
	struct store *s = open_store();
	struct seed *v1 = NULL, *v2 = NULL;
	struct seed_stats st;
	struct store_user *u = NULL;
	char admin_hash[PASSWORD_HASH_MAX];
	struct err e = { 0 };

	if (s == NULL)
		return;
	v1 = parse_seed("{\"users\":{\"bob\":{\"password\":\"one\",\"roles\":"
	                "[\"user\"]}}}",
	    &e);
	v2 = parse_seed("{\"users\":{\"bob\":{\"password\":\"two\",\"roles\":"
	                "[\"user\",\"admin\"]}}}",
	    &e);
	CHECK(v1 != NULL && v2 != NULL);
	if (v1 == NULL || v2 == NULL)
		goto out;
	CHECK(seed_apply(s, v1, &cheap, 10, &st, &e) == 0);
	CHECK(st.created == 1);
	/* Same file again: nothing re-hashed. */
	CHECK(seed_apply(s, v1, &cheap, 11, &st, &e) == 0);
	CHECK(st.unchanged == 1 && st.password_set == 0);
	/* An admin tool sets another password (it writes password_hash
	 * only; the seed hash stays what the import wrote)... */
	CHECK(password_hash(&cheap, "admin-set", 9, admin_hash, &e) == 0);
	CHECK(set_password_directly("bob", admin_hash) == 1);
	/* ...which the unchanged seed does not undo. */
	CHECK(seed_apply(s, v1, &cheap, 12, &st, &e) == 0);
	CHECK(st.unchanged == 1);
	CHECK(store_find_user(s, "bob", 3, &u, &e) == 0 && u != NULL);
	CHECK(u != NULL && password_verify(u->password_hash, "admin-set", 9));
	store_user_free(u);
	u = NULL;
	/* A changed seed entry for bob does: password and roles. */
	CHECK(seed_apply(s, v2, &cheap, 13, &st, &e) == 0);
	CHECK(st.password_set == 1);
	CHECK(store_find_user(s, "bob", 3, &u, &e) == 0 && u != NULL);
	if (u != NULL) {
		CHECK(password_verify(u->password_hash, "two", 3));
		CHECK(!password_verify(u->password_hash, "admin-set", 9));
		CHECK(u->n_roles == 2);
	}
out:
	store_user_free(u);
	seed_free(v1);
	seed_free(v2);
	store_free(s);
}

static void
test_seed_state_race_is_detected(void)
{
	struct store *s = open_store();
	const char *roles[] = { "user" };
	struct store_seed_user su = { "carol", 5, roles, 1 };
	struct err e = { 0 };

	if (s == NULL)
		return;
	CHECK(store_seed_user(s, &su, "h1", NULL, 1, &e) == 0);
	/* A writer that read no seed hash finds "h1": refused. */
	CHECK(store_seed_user(s, &su, "h2", NULL, 2, &e) == -1);
	CHECK(e.code == ERR_UNAVAILABLE);
	e = (struct err){ 0 };
	CHECK(store_seed_user(s, &su, "h2", "h1", 2, &e) == 0);
	/* Roles only: no expectation needed. */
	CHECK(store_seed_user(s, &su, NULL, "whatever", 3, &e) == 0);
	CHECK(scalar("SELECT count(*) FROM users WHERE username = 'carol' "
	             "AND password_hash = 'h2'") == 1);
	store_free(s);
}

/* /health's probe: a real read, and the file still at its path. */
static void
test_ping_notices_a_deleted_file(void)
{
	char other[300];
	struct store *s;
	struct err e = { 0 };

	snprintf(other, sizeof(other), "%s/ping.db", dir);
	s = store_open(other, 1000, &e);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(store_ping(s, &e) == 0); /* positive control */
	CHECK(unlink(other) == 0);
	e = (struct err){ 0 };
	CHECK(store_ping(s, &e) == -1);
	CHECK(e.code == ERR_IO);
	store_free(s);
}

/* PostgreSQL: the schema's versions are rows of schema_migrations, and a
 * second open (another issuer starting) migrates nothing. */
static void
test_pg_schema(void)
{
	struct store *s = open_store();

	CHECK(s != NULL);
	CHECK(scalar("SELECT max(version) FROM schema_migrations") ==
	      PG_SCHEMA_VERSION);
	CHECK(scalar("SELECT count(*) FROM schema_migrations") ==
	      PG_SCHEMA_VERSION);
	CHECK(scalar("SELECT count(*) FROM pg_tables WHERE tablename IN "
	             "('users','families','health_probe')") == 3);
	store_free(s);
	s = open_store();
	CHECK(s != NULL);
	CHECK(scalar("SELECT count(*) FROM schema_migrations") ==
	      PG_SCHEMA_VERSION);
	store_free(s);
}

/* PostgreSQL: a database migrated by a newer program is refused, never
 * written with an older idea of its schema. */
static void
test_pg_refuses_newer_schema(void)
{
	char other[512];
	struct store *s;
	struct err e = { 0 };

	tb_fresh(dir, "userdb_newer", other, sizeof(other));
	s = store_open(other, 1000, &e);
	CHECK(s != NULL);
	store_free(s);
	CHECK(tb_exec(other, "INSERT INTO schema_migrations VALUES (99, 0)",
	          NULL, NULL) == 1);
	s = store_open(other, 1000, &e);
	CHECK(s == NULL && strstr(e.msg, "newer") != NULL);
	store_free(s);
}

int
main(void)
{
	if (secret_init() == -1 || mkdtemp(dir) == NULL)
		return 1;
	if (tb_pg()) {
		tb_fresh(dir, "userdb", path, sizeof(path));
		RUN(test_pg_schema);
		RUN(test_pg_refuses_newer_schema);
	} else {
		/* SQLite's own: the file, its pragmas, its migrations. */
		snprintf(path, sizeof(path), "%s/sub/dir/auth.db", dir);
		RUN(test_schema_and_pragmas);
		RUN(test_migration_from_version_1);
		RUN(test_refuses_newer_schema);
	}
	RUN(test_seed_user_and_lookup);
	RUN(test_rehash_is_conditional);
	RUN(test_seed_file_validation);
	RUN(test_seed_import_keeps_later_changes);
	RUN(test_seed_state_race_is_detected);
	if (!tb_pg())
		RUN(test_ping_notices_a_deleted_file);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return test_report();
}
