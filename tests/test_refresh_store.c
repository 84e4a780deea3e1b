/* test_refresh_store: refresh-token families in a real database (a SQLite
 * file, or PostgreSQL when JWT_TEST_PG_URL names a server: see
 * store_backend.h): rotation by generation, reuse revoking the family
 * (committed), expiry, absolute family lifetime, flat storage per login,
 * logout, batched purge and its log copy, concurrent rotation from many
 * connections, and for PostgreSQL a lost connection and a password kept out of
 * errors. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "refresh_token.h"
#include "secret.h"
#include "store.h"
#include "store_backend.h"
#include "test.h"

static char dir[] = "/tmp/test_refresh.XXXXXX";
static char path[512];
static int64_t user_id;

static struct store *
open_store(void)
{
	struct err e = { 0 };
	struct store *s = store_open(path, 5000, &e);

	if (s == NULL)
		fprintf(stderr, "open: %s\n", e.msg);
	return s;
}

/* Opening must work: a test that cannot open its store fails. */
static struct store *
must_open(void)
{
	struct store *s = open_store();

	CHECK(s != NULL);
	return s;
}

static int
rotate(struct store *s, const struct store_grant *from, uint64_t generation,
    int64_t now, enum store_refusal *why, struct store_grant *g)
{
	struct store_user *u = NULL;
	struct err e = { 0 };
	int rc;

	rc = store_rotate(s, from->family_id, generation, "demo-client", now,
	    100, g, &u, why, &e);
	if (rc == -1 && e.code != ERR_INVALID_GRANT)
		fprintf(stderr, "rotate: %s\n", e.msg);
	/* A rotation reads the family's user; a refusal returns none. */
	CHECK((rc == 0) == (u != NULL));
	CHECK(u == NULL || u->id == user_id);
	store_user_free(u);
	return rc;
}

static int
login(struct store *s, int64_t now, struct store_grant *g)
{
	char family[STORE_FAMILY_ID_LEN + 1];
	struct err e = { 0 };

	refresh_family_new(family);
	return store_create_family(
	    s, family, user_id, "demo-client", NULL, now, 100, 1000, g, &e);
}

static int64_t
scalar(const char *sql, const char *arg)
{
	return tb_scalar(path, sql, arg);
}

static void
test_rotation_and_reuse(void)
{
	struct store *s = must_open();
	struct store_grant g, g2,
	    unknown = { .family_id = "AAAAAAAAAAAAAAAAAAAAAA" };
	enum store_refusal why;

	if (s == NULL)
		return;
	CHECK(login(s, 1000, &g) == 0);
	CHECK(strlen(g.family_id) == STORE_FAMILY_ID_LEN);
	CHECK(g.generation == 0);
	CHECK(g.token_expires == 1100 && g.family_expires == 2000);
	CHECK(rotate(s, &g, 0, 1010, &why, &g2) == 0);
	CHECK(strcmp(g.family_id, g2.family_id) == 0 && g2.user_id == user_id);
	CHECK(g2.generation == 1 && g2.token_expires == 1110);
	CHECK(strcmp(g2.username, "u") == 0);
	CHECK(rotate(s, &g, 1, 1020, &why, &g2) == 0);
	CHECK(g2.generation == 2);
	/* Generation 0 again: reuse. The whole family dies, newest token
	 * (generation 2) included. */
	CHECK(rotate(s, &g, 0, 1030, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_REUSED);
	CHECK(strcmp(g2.family_id, g.family_id) == 0);
	CHECK(strcmp(g2.username, "u") == 0);
	CHECK(rotate(s, &g, 2, 1031, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_REVOKED);
	/* Committed: another connection sees the revocation. */
	CHECK(scalar("SELECT revoked_reason = 'reuse' FROM families WHERE "
	             "id = ?1",
	          g.family_id) == 1);
	/* A generation never issued, and a family never made. */
	CHECK(login(s, 1000, &g) == 0);
	CHECK(rotate(s, &g, 5, 1001, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_UNKNOWN);
	CHECK(rotate(s, &unknown, 0, 1001, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_UNKNOWN);
	/* Neither refusal touched the family. */
	CHECK(rotate(s, &g, 0, 1002, &why, &g2) == 0);
	store_free(s);
}

/* A family is bound to the client it was issued to (RFC 6749 6): another
 * client's attempt, with the live generation or an old one, is refused as
 * such and changes nothing for the owner (RFC 6749 10.4), where an old
 * generation from the owner would have revoked the family. */
static void
test_another_clients_token(void)
{
	struct store *s = must_open();
	struct store_grant g, g2;
	struct store_user *u = NULL;
	enum store_refusal why;

	if (s == NULL)
		return;
	CHECK(login(s, 1000, &g) == 0);
	CHECK(rotate(s, &g, 0, 1010, &why, &g2) == 0);
	for (uint64_t gen = 0; gen < 2; gen++) {
		struct err e = { 0 };

		CHECK(store_rotate(s, g.family_id, gen, "other-client", 1020,
		          100, &g2, &u, &why, &e) == -1);
		CHECK(u == NULL && e.code == ERR_INVALID_GRANT);
		CHECK(why == STORE_REFUSED_CLIENT);
	}
	CHECK(scalar("SELECT revoked_at IS NULL AND generation = 1 FROM "
	             "families WHERE id = ?1",
	          g.family_id) == 1);
	/* Positive control: the owner's live generation still rotates. */
	CHECK(rotate(s, &g, 1, 1030, &why, &g2) == 0);
	CHECK(g2.generation == 2);
	store_free(s);
}

/* One row per login whatever the number of refreshes: nothing grows. */
static void
test_storage_per_login_is_flat(void)
{
	struct store *s = must_open();
	struct store_grant g, g2;
	enum store_refusal why;
	int64_t pages_before, pages_after;

	if (s == NULL)
		return;
	CHECK(login(s, 7000, &g) == 0);
	/* SQLite: not one page more (PostgreSQL's MVCC keeps old row
	 * versions until vacuum: there the row count is the claim). */
	pages_before = tb_pg() ? 0 : scalar("PRAGMA page_count", NULL);
	for (uint64_t i = 0; i < 500; i++)
		CHECK(rotate(s, &g, i, 7000 + (int64_t)i / 10, &why, &g2) == 0);
	CHECK(g2.generation == 500);
	CHECK(scalar("SELECT count(*) FROM families WHERE id = ?1",
	          g.family_id) == 1);
	pages_after = tb_pg() ? 0 : scalar("PRAGMA page_count", NULL);
	CHECK(pages_after == pages_before);
	store_free(s);
}

static void
test_expiry_and_absolute_lifetime(void)
{
	struct store *s = must_open();
	struct store_grant g, g2;
	enum store_refusal why;
	uint64_t gen = 1;

	if (s == NULL)
		return;
	CHECK(login(s, 5000, &g) == 0);
	/* exp is exclusive: usable at 5099, not at 5100. */
	CHECK(rotate(s, &g, 0, 5100, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_EXPIRED);
	CHECK(rotate(s, &g, 0, 5099, &why, &g2) == 0);
	CHECK(g2.token_expires == 5199);
	/* Rotating every 90 s never reaches past the family's 1000 s. */
	int64_t now = 5099;
	for (int i = 2; i < 20; i++, gen++) {
		now += 90;
		int rc = rotate(s, &g, gen, now, &why, &g2);
		if (now < 6000) {
			CHECK(rc == 0);
			CHECK(g2.token_expires <= 6000);
		} else {
			CHECK(rc == -1 && why == STORE_REFUSED_EXPIRED);
			break;
		}
	}
	store_free(s);
}

/* The family's absolute expiry is checked by the rotation itself, not
 * only through the token's expiry (which rotation caps at it): a token
 * expiry beyond the family's, as a bug elsewhere or an old row could
 * leave, still ends at the family's. */
static void
test_family_expiry_checked_on_its_own(void)
{
	struct store *s = must_open();
	struct store_grant g, g2;
	enum store_refusal why;

	if (s == NULL)
		return;
	CHECK(login(s, 8000, &g) == 0); /* family ends at 9000 */
	CHECK(tb_exec(path,
	          "UPDATE families SET token_expires_at = 99999 WHERE "
	          "expires_at = 9000",
	          NULL, NULL) == 1);
	CHECK(rotate(s, &g, 0, 9000, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_EXPIRED);
	CHECK(rotate(s, &g, 0, 8999, &why, &g2) == 0);
	CHECK(g2.token_expires == 9000);
	store_free(s);
}

/* A rotated token presented after its own expiry is still reuse: it
 * proves two parties hold the family, whose newer tokens may be alive
 * (RFC 9700 4.14.2). Refused as merely expired, the thief's branch would
 * live on. */
static void
test_expired_reused_token_revokes(void)
{
	struct store *s = must_open();
	struct store_grant g, g2;
	enum store_refusal why;

	if (s == NULL)
		return;
	CHECK(login(s, 8000, &g) == 0); /* generation 0 expires at 8100 */
	CHECK(rotate(s, &g, 0, 8010, &why, &g2) == 0);
	CHECK(rotate(s, &g, 1, 8050, &why, &g2) == 0); /* 2: to 8150 */
	CHECK(rotate(s, &g, 0, 8120, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_REUSED);
	CHECK(rotate(s, &g, 2, 8121, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_REVOKED);
	/* The live generation has expired too (the family has not): the old
	 * one is still a reuse, not "expired", and revokes the family. */
	CHECK(login(s, 8000, &g) == 0);
	CHECK(rotate(s, &g, 0, 8010, &why, &g2) == 0); /* 1: to 8110 */
	CHECK(rotate(s, &g, 0, 8500, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_REUSED);
	CHECK(scalar("SELECT revoked_reason = 'reuse' FROM families WHERE "
	             "id = ?1",
	          g.family_id) == 1);
	/* Positive control: an expired token never rotated is only expired,
	 * and its family lives on. */
	CHECK(login(s, 8000, &g) == 0);
	CHECK(rotate(s, &g, 0, 8100, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_EXPIRED);
	CHECK(scalar("SELECT revoked_at IS NULL FROM families WHERE id = ?1",
	          g.family_id) == 1);
	store_free(s);
}

/* Runs sql on a second connection to the same file, as an operator's
 * tool or another process would. */
static int
exec_other(const char *sql, const char *arg)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    (arg == NULL || sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC) ==
	                        SQLITE_OK) &&
	    sqlite3_step(st) == SQLITE_DONE)
		rc = 0;
	else
		fprintf(stderr, "exec_other: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* The row count of the conditional UPDATE is the decision. With SQLite
 * it cannot lose by itself (BEGIN IMMEDIATE holds the write lock), but a
 * backend without that lock can: the competitor commits first and our
 * UPDATE changes nothing. A trigger made on a second connection plays the
 * competitor at the exact moment of our UPDATE: it moves the family on,
 * as the race's winner would, and RAISE(IGNORE) makes our UPDATE change
 * no row. The rotation must then refuse as reuse and issue nothing; with
 * the check gone it would hand out a second live token (a double spend). */
static void
test_lost_race_on_the_update_is_reuse(void)
{
	struct store *s = must_open();
	struct store_grant g, g2;
	enum store_refusal why;
	char sql[512];

	if (s == NULL)
		return;
	CHECK(login(s, 4000, &g) == 0);
	snprintf(sql, sizeof(sql),
	    "CREATE TRIGGER test_competitor BEFORE UPDATE OF generation ON "
	    "families WHEN OLD.id = '%s' BEGIN UPDATE families SET "
	    "generation = OLD.generation + 1 WHERE id = OLD.id; "
	    "SELECT RAISE(IGNORE); END",
	    g.family_id);
	CHECK(exec_other(sql, NULL) == 0);
	CHECK(rotate(s, &g, 0, 4042, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_REUSED);
	CHECK(exec_other("DROP TRIGGER test_competitor", NULL) == 0);
	/* The family is revoked, committed; the competitor's generation is
	 * refused too. */
	CHECK(scalar("SELECT revoked_reason = 'reuse' FROM families WHERE "
	             "id = ?1",
	          g.family_id) == 1);
	CHECK(rotate(s, &g, 1, 4043, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_REVOKED);
	/* Positive control: without the competitor a fresh family rotates. */
	CHECK(login(s, 4000, &g) == 0);
	CHECK(rotate(s, &g, 0, 4042, &why, &g2) == 0);
	store_free(s);
}

/* A family whose user is gone rotates nothing. Inside the daemon the
 * user's families go with it (ON DELETE CASCADE), but foreign keys are a
 * per-connection setting that the sqlite3 shell and most tools leave off:
 * a user deleted from there leaves its families behind, and the rotation
 * reads the user in its own transaction to refuse them. */
static void
test_user_deleted_without_cascade(void)
{
	struct store *s = must_open();
	const char *roles[] = { "user" };
	struct store_seed_user su = { "gone", 4, roles, 1 };
	struct store_user *u = NULL;
	struct store_grant g, g2;
	enum store_refusal why;
	struct err e = { 0 };
	char family[STORE_FAMILY_ID_LEN + 1];

	if (s == NULL)
		return;
	CHECK(store_seed_user(s, &su, "$argon2id$x", NULL, 1, &e) == 0);
	CHECK(store_find_user(s, "gone", 4, &u, &e) == 0 && u != NULL);
	if (u == NULL) {
		store_free(s);
		return;
	}
	refresh_family_new(family);
	CHECK(store_create_family(s, family, u->id, "demo-client", NULL, 3000,
	          100, 1000, &g, &e) == 0);
	store_user_free(u);
	u = NULL;
	/* Positive control: it rotates while the user exists. */
	CHECK(store_rotate(s, family, 0, "demo-client", 3001, 100, &g2, &u,
	          &why, &e) == 0);
	CHECK(u != NULL);
	store_user_free(u);
	u = NULL;
	CHECK(exec_other("DELETE FROM users WHERE username = ?1", "gone") == 0);
	CHECK(
	    scalar("SELECT count(*) FROM families WHERE id = ?1", family) == 1);
	e = (struct err){ 0 };
	CHECK(store_rotate(s, family, 1, "demo-client", 3002, 100, &g2, &u,
	          &why, &e) == -1);
	CHECK(u == NULL);
	CHECK(why == STORE_REFUSED_UNKNOWN && e.code == ERR_INVALID_GRANT);
	/* Nothing moved: the family is still at generation 1. */
	CHECK(scalar("SELECT generation FROM families WHERE id = ?1", family) ==
	      1);
	/* The orphan family is tidied so the integrity test stays clean. */
	CHECK(exec_other("DELETE FROM families WHERE id = ?1", family) == 0);
	store_free(s);
}

static void
test_logout_revokes_family(void)
{
	struct store *s = must_open();
	struct store_grant g, g2;
	enum store_refusal why;
	struct err e = { 0 };
	bool found = true;

	if (s == NULL)
		return;
	CHECK(login(s, 100, &g) == 0);
	CHECK(rotate(s, &g, 0, 101, &why, &g2) == 0);
	CHECK(
	    store_revoke(s, g.family_id, "logout", 102, &g2, &found, &e) == 0);
	CHECK(found && strcmp(g2.family_id, g.family_id) == 0);
	CHECK(rotate(s, &g, 1, 103, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_REVOKED);
	CHECK(store_revoke(s, "AAAAAAAAAAAAAAAAAAAAAA", "logout", 104, &g2,
	          &found, &e) == 0);
	CHECK(!found);
	/* A second logout of the same family is fine too. */
	CHECK(
	    store_revoke(s, g.family_id, "logout", 105, &g2, &found, &e) == 0 &&
	    found);
	store_free(s);
}

static void
test_purge(void)
{
	struct store *s = must_open();
	struct store_grant g;
	struct err e = { 0 };
	int64_t deleted = -1, before;

	if (s == NULL)
		return;
	CHECK(login(s, 1, &g) == 0); /* family expires at 1001 */
	CHECK(store_purge(s, 1001, 100, &deleted, &e) == 0);
	CHECK(deleted == 0);
	CHECK(scalar("SELECT count(*) FROM families WHERE id = ?1",
	          g.family_id) == 1);
	CHECK(store_purge(s, 1002, 100, &deleted, &e) == 0);
	CHECK(deleted == 1);
	CHECK(scalar("SELECT count(*) FROM families WHERE id = ?1",
	          g.family_id) == 0);
	/* Batches: never more than the limit per call, oldest first. What
	 * earlier tests left is purged first, so 25 families stand alone. */
	do
		CHECK(store_purge(s, 300000, 100, &deleted, &e) == 0);
	while (deleted == 100);
	for (int i = 0; i < 25; i++)
		CHECK(login(s, 300000 + i, &g) == 0);
	before = scalar("SELECT count(*) FROM families", NULL);
	CHECK(store_purge(s, 400000, 10, &deleted, &e) == 0 && deleted == 10);
	CHECK(scalar("SELECT min(expires_at) FROM families WHERE "
	             "expires_at BETWEEN 301000 AND 302000",
	          NULL) == 301010);
	CHECK(store_purge(s, 400000, 10, &deleted, &e) == 0 && deleted == 10);
	CHECK(store_purge(s, 400000, 10, &deleted, &e) == 0 && deleted == 5);
	CHECK(scalar("SELECT count(*) FROM families", NULL) == before - 25);
	store_free(s);
}

/* The purge's log copy (purge.c), from another connection as on another
 * worker: it reports the WAL's length, and once all of it is copied with
 * no write in between, the next write starts the WAL afresh: what keeps
 * the log short while a purge runs. PostgreSQL has no such log: 0. */
static void
test_checkpoint(void)
{
	struct store *s = must_open(), *other = must_open();
	struct store_grant g;
	struct err e = { 0 };
	int64_t pages = -1, after = -1;

	if (s == NULL || other == NULL)
		goto out;
	for (int i = 0; i < 20; i++)
		CHECK(login(s, 5000, &g) == 0);
	CHECK(store_checkpoint(other, &pages, &e) == 0);
	if (tb_pg()) {
		CHECK(pages == 0);
		goto out;
	}
	CHECK(pages >= 20); /* one page at least per commit */
	CHECK(login(s, 5000, &g) == 0);
	CHECK(store_checkpoint(other, &after, &e) == 0);
	CHECK(after > 0 && after < 20);
out:
	store_free(other);
	store_free(s);
}

/* A family for a user deleted meanwhile breaks a foreign key: an internal
 * error, not a failing database (the connection and readiness stay). */
static void
test_broken_constraint_is_not_io(void)
{
	struct store *s = must_open();
	struct store_grant g;
	char family[STORE_FAMILY_ID_LEN + 1];
	struct err e = { 0 };

	if (s == NULL)
		return;
	refresh_family_new(family);
	CHECK(store_create_family(s, family, 987654321, "demo-client", NULL, 10,
	          100, 1000, &g, &e) == -1);
	CHECK(e.code == ERR_INTERNAL);
	CHECK(login(s, 10, &g) == 0); /* the same connection goes on */
	store_free(s);
}

#define RACERS 8

struct racer {
	int index;
	const struct store_grant *from;
	pthread_barrier_t *start;
	int rc;
	enum store_refusal why;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	struct store *s = open_store();
	struct store_grant g;

	pthread_barrier_wait(r->start);
	r->rc = s != NULL ? rotate(s, r->from, 0, 200, &r->why, &g) : -2;
	store_free(s);
	return NULL;
}

/* Eight connections rotate one token at once: exactly one wins, the
 * first loser counts as reuse, so the family ends revoked. */
static void
test_concurrent_rotation(void)
{
	struct store *s = must_open();
	pthread_t t[RACERS];
	struct racer r[RACERS];
	pthread_barrier_t start;
	struct store_grant g;
	int wins = 0, reused = 0, revoked = 0;

	if (s == NULL)
		return;
	CHECK(login(s, 199, &g) == 0);
	pthread_barrier_init(&start, NULL, RACERS);
	for (int i = 0; i < RACERS; i++) {
		r[i] =
		    (struct racer){ .index = i, .from = &g, .start = &start };
		pthread_create(&t[i], NULL, race, &r[i]);
	}
	for (int i = 0; i < RACERS; i++) {
		pthread_join(t[i], NULL);
		wins += r[i].rc == 0;
		reused += r[i].rc == -1 && r[i].why == STORE_REFUSED_REUSED;
		revoked += r[i].rc == -1 && r[i].why == STORE_REFUSED_REVOKED;
	}
	pthread_barrier_destroy(&start);
	CHECK(wins == 1);
	/* The first loser revokes the family; later ones find it revoked. */
	CHECK(reused >= 1);
	CHECK(reused + revoked == RACERS - 1);
	CHECK(scalar("SELECT revoked_at IS NOT NULL FROM families WHERE "
	             "id = ?1",
	          g.family_id) == 1);
	store_free(s);
}

static long
file_size(const char *suffix)
{
	char name[sizeof(path) + 16];
	struct stat st;

	snprintf(name, sizeof(name), "%s%s", path, suffix);
	return stat(name, &st) == 0 ? (long)st.st_size : -1;
}

/* SQLite's checkpoints keep the WAL bounded under a steady write load:
 * 5000 logins write many times the 1000-page checkpoint threshold, and
 * the WAL stays near it. */
static void
test_wal_stays_bounded(void)
{
	struct store *s = must_open();
	struct store_grant g;

	if (s == NULL)
		return;
	for (int i = 0; i < 5000; i++)
		CHECK(login(s, 3000, &g) == 0);
	CHECK(file_size("-wal") > 0);
	CHECK(file_size("-wal") < 8L * 1024 * 1024);
	CHECK(file_size("") > 256L * 1024); /* checkpointed into the file */
	store_free(s);
	/* Closing the last connection checkpoints and removes the WAL. */
	CHECK(file_size("-wal") == -1);
}

static void
test_integrity(void)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) ==
	      SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW &&
	      strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0);
	sqlite3_finalize(st);
	CHECK(sqlite3_prepare_v2(
	          db, "PRAGMA foreign_key_check", -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* pg_terminate_backend only asks: waits until the server process of the
 * store's connection has gone (bounded). */
static void
gone(void)
{
	int64_t n = -1;

	for (int i = 0; i < 500 && n != 0; i++) {
		n = tb_scalar(tb_pg_url(),
		    "SELECT count(*) FROM pg_stat_activity"
		    " WHERE datname = 'refresh_store'",
		    NULL);
		if (n != 0)
			usleep(10000);
	}
	CHECK(n == 0);
}

/* PostgreSQL: a connection the server ended while it sat idle (a
 * restart, a failover, an idle timeout) is replaced before the next
 * statement is sent, so a write goes through; a server that takes no
 * connection is ERR_IO, which makes the pool start afresh. */
static void
test_pg_lost_connection(void)
{
	static const char kill_sql[] =
	    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
	    " WHERE datname = 'refresh_store'";
	struct store *s = must_open(), *s2;
	struct store_grant g, g2;
	enum store_refusal why;
	struct err e = { 0 };

	if (s == NULL)
		return;
	CHECK(login(s, 100, &g) == 0); /* positive control */
	CHECK(tb_scalar(tb_pg_url(), kill_sql, NULL) == 1);
	gone();
	/* Ended while idle: reconnected, the write and a rotation work. */
	CHECK(login(s, 100, &g) == 0);
	CHECK(rotate(s, &g, 0, 101, &why, &g2) == 0);
	/* Ended and no way back in: ERR_IO. */
	CHECK(tb_exec(tb_pg_url(),
	          "ALTER DATABASE refresh_store ALLOW_CONNECTIONS false", NULL,
	          NULL) == 0);
	CHECK(tb_scalar(tb_pg_url(), kill_sql, NULL) == 1);
	gone();
	e = (struct err){ 0 };
	CHECK(store_ping(s, &e) == -1 && e.code == ERR_IO);
	CHECK(login(s, 100, &g) == -1);
	CHECK(tb_exec(tb_pg_url(),
	          "ALTER DATABASE refresh_store ALLOW_CONNECTIONS true", NULL,
	          NULL) == 0);
	store_free(s);
	/* What the pool does next: a fresh store, which works at once. */
	s2 = must_open();
	CHECK(s2 != NULL && login(s2, 100, &g) == 0);
	store_free(s2);
}

/* PostgreSQL: a row another transaction holds longer than the busy
 * timeout (lock_timeout) is ERR_UNAVAILABLE (a 503 to retry), not a
 * failed database, and the connection stays usable. */
static void
test_pg_lock_timeout_is_unavailable(void)
{
	struct store *s;
	struct store_grant g, g2;
	struct store_user *u = NULL;
	enum store_refusal why;
	struct err e = { 0 };
	PGconn *holder = PQconnectdb(path);
	char sql[200];

	s = store_open(path, 200, &e); /* 200 ms */
	CHECK(s != NULL && PQstatus(holder) == CONNECTION_OK);
	if (s == NULL || PQstatus(holder) != CONNECTION_OK)
		goto out;
	CHECK(login(s, 100, &g) == 0);
	snprintf(sql, sizeof(sql),
	    "SELECT 1 FROM families WHERE id = '%s' FOR UPDATE", g.family_id);
	PQclear(PQexec(holder, "BEGIN"));
	PQclear(PQexec(holder, sql));
	CHECK(store_rotate(s, g.family_id, 0, "demo-client", 101, 100, &g2, &u,
	          &why, &e) == -1);
	CHECK(e.code == ERR_UNAVAILABLE && u == NULL);
	PQclear(PQexec(holder, "ROLLBACK"));
	CHECK(rotate(s, &g, 0, 102, &why, &g2) == 0); /* same connection */
out:
	PQfinish(holder);
	store_free(s);
}

/* PostgreSQL: neither a refused password nor a malformed URL puts the
 * URL's password in the error (which the daemon logs). */
static void
test_pg_password_never_in_errors(void)
{
	char url[600], *at;
	struct store *s;
	struct err e = { 0 };
	const char *base = tb_pg_url();

	/* postgresql://user:PASSWORD@host... with a wrong password. */
	at = strchr(base, '@');
	CHECK(at != NULL);
	if (at == NULL)
		return;
	snprintf(url, sizeof(url), "postgresql://postgres:Wr0ngSecret%s", at);
	s = store_open(url, 1000, &e);
	CHECK(s == NULL && e.code == ERR_IO);
	CHECK(strstr(e.msg, "Wr0ngSecret") == NULL);
	CHECK(strstr(e.msg, "password") != NULL); /* it says why */
	store_free(s);
	e = (struct err){ 0 };
	s = store_open(
	    "postgresql://u:Wr0ngSecret%zz@127.0.0.1:1/db", 1000, &e);
	CHECK(s == NULL && strstr(e.msg, "Wr0ngSecret") == NULL);
	store_free(s);
	/* Nobody listening: ERR_IO, which the pool turns into a 503. */
	e = (struct err){ 0 };
	s = store_open("postgresql://u:Wr0ngSecret@127.0.0.1:1/db", 1000, &e);
	CHECK(s == NULL && e.code == ERR_IO);
	CHECK(strstr(e.msg, "Wr0ngSecret") == NULL);
	store_free(s);
}

int
main(void)
{
	struct store *s;
	const char *roles[] = { "user" };
	struct store_seed_user su = { "u", 1, roles, 1 };
	struct store_user *u = NULL;
	struct err e = { 0 };

	if (secret_init() == -1 || mkdtemp(dir) == NULL)
		return 1;
	tb_fresh(dir, "refresh_store", path, sizeof(path));
	if ((s = open_store()) == NULL ||
	    store_seed_user(s, &su, "$argon2id$x", NULL, 1, &e) == -1 ||
	    store_find_user(s, "u", 1, &u, &e) == -1 || u == NULL)
		return 1;
	user_id = u->id;
	store_user_free(u);
	store_free(s);
	RUN(test_rotation_and_reuse);
	RUN(test_storage_per_login_is_flat);
	RUN(test_expiry_and_absolute_lifetime);
	RUN(test_family_expiry_checked_on_its_own);
	RUN(test_expired_reused_token_revokes);
	RUN(test_another_clients_token);
	RUN(test_logout_revokes_family);
	RUN(test_purge);
	RUN(test_checkpoint);
	RUN(test_broken_constraint_is_not_io);
	RUN(test_concurrent_rotation);
	if (tb_pg()) {
		RUN(test_pg_lost_connection);
		RUN(test_pg_lock_timeout_is_unavailable);
		RUN(test_pg_password_never_in_errors);
	} else {
		/* SQLite's own file: a trigger and a delete made on another
		 * connection (foreign keys off), its WAL and its integrity
		 * check. */
		RUN(test_lost_race_on_the_update_is_reuse);
		RUN(test_user_deleted_without_cascade);
		RUN(test_wal_stays_bounded);
		RUN(test_integrity);
	}
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return test_report();
}
