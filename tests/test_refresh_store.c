/* test_refresh_store: families and refresh tokens in a real SQLite file:
 * rotation, reuse revoking the family (committed), expiry, absolute family
 * lifetime, logout, purge, and concurrent rotation from many connections. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "secret.h"
#include "store.h"
#include "test.h"

static char dir[] = "/tmp/test_refresh.XXXXXX";
static char path[256];
static int64_t user_id;

static struct store *
open_store(void)
{
	struct err e = { 0 };
	struct store *s = store_open_sqlite(path, 5000, &e);

	/* A store that cannot be opened fails the test that needed it: the
	 * callers return early, and must not pass having checked nothing. */
	CHECK(s != NULL);
	if (s == NULL)
		fprintf(stderr, "open: %s\n", e.msg);
	return s;
}

static void
token(const char *text, unsigned char h[STORE_HASH_LEN])
{
	store_token_hash(text, strlen(text), h);
}

static int
rotate(struct store *s, const char *old, const char *new, int64_t now,
    enum store_refusal *why, struct store_grant *g)
{
	unsigned char a[STORE_HASH_LEN], b[STORE_HASH_LEN];
	struct store_user *u = NULL;
	struct err e = { 0 };
	int rc;

	token(old, a);
	token(new, b);
	rc = store_rotate(s, a, b, now, 100, g, &u, why, &e);
	if (rc == -1 && e.code != ERR_INVALID_GRANT)
		fprintf(stderr, "rotate: %s\n", e.msg);
	/* A rotation reads the family's user; a refusal returns none. */
	CHECK((rc == 0) == (u != NULL));
	CHECK(u == NULL || u->id == user_id);
	store_user_free(u);
	return rc;
}

static int
login(struct store *s, const char *tok, int64_t now, struct store_grant *g)
{
	unsigned char h[STORE_HASH_LEN];
	struct err e = { 0 };

	token(tok, h);
	return store_create_family(
	    s, user_id, "demo-client", h, now, 100, 1000, g, &e);
}

static int64_t
scalar(const char *sql, const char *arg)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    (arg == NULL || sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC) ==
	                        SQLITE_OK) &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
test_rotation_and_reuse(void)
{
	struct store *s = open_store();
	struct store_grant g, g2;
	enum store_refusal why;

	if (s == NULL)
		return;
	CHECK(login(s, "r1", 1000, &g) == 0);
	CHECK(strlen(g.family_id) == STORE_FAMILY_ID_LEN);
	CHECK(g.token_expires == 1100 && g.family_expires == 2000);
	CHECK(rotate(s, "r1", "r2", 1010, &why, &g2) == 0);
	CHECK(strcmp(g.family_id, g2.family_id) == 0 && g2.user_id == user_id);
	CHECK(rotate(s, "r2", "r3", 1020, &why, &g2) == 0);
	/* r1 again: reuse. The whole family dies, newest token included. */
	CHECK(rotate(s, "r1", "x1", 1030, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_REUSED);
	CHECK(strcmp(g2.family_id, g.family_id) == 0);
	CHECK(rotate(s, "r3", "x2", 1031, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_REVOKED);
	/* Committed: another connection sees the revocation. */
	CHECK(scalar("SELECT revoked_reason = 'reuse' FROM families WHERE "
	             "id = ?1",
	          g.family_id) == 1);
	CHECK(scalar("SELECT count(*) FROM refresh_tokens WHERE family_id = ?1 "
	             "AND revoked_at IS NULL",
	          g.family_id) == 0);
	/* The tokens that failed were never stored. */
	CHECK(scalar("SELECT count(*) FROM refresh_tokens WHERE family_id = ?1",
	          g.family_id) == 3);
	CHECK(rotate(s, "never-issued", "x3", 1031, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_UNKNOWN);
	store_free(s);
}

static void
test_expiry_and_absolute_lifetime(void)
{
	struct store *s = open_store();
	struct store_grant g, g2;
	enum store_refusal why;
	char old[16], new[16];

	if (s == NULL)
		return;
	CHECK(login(s, "e1", 5000, &g) == 0);
	/* exp is exclusive: usable at 5099, not at 5100. */
	CHECK(rotate(s, "e1", "e2", 5100, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_EXPIRED);
	CHECK(rotate(s, "e1", "e2", 5099, &why, &g2) == 0);
	CHECK(g2.token_expires == 5199);
	/* Rotating every 90 s never reaches past the family's 1000 s. */
	int64_t now = 5099;
	for (int i = 2; i < 20; i++) {
		snprintf(old, sizeof(old), "e%d", i);
		snprintf(new, sizeof(new), "e%d", i + 1);
		now += 90;
		int rc = rotate(s, old, new, now, &why, &g2);
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

/* Reuse is checked before expiry: an expired token that was already
 * rotated still proves two parties hold the family, whose newer tokens
 * may be alive (RFC 9700 4.14.2). Refused as merely expired, the thief's
 * branch would live on. */
static void
test_expired_reused_token_revokes(void)
{
	struct store *s = open_store();
	struct store_grant g, g2;
	enum store_refusal why;

	if (s == NULL)
		return;
	CHECK(login(s, "x1", 8000, &g) == 0); /* x1 expires at 8100 */
	CHECK(rotate(s, "x1", "x2", 8010, &why, &g2) == 0);
	CHECK(rotate(s, "x2", "x3", 8050, &why, &g2) == 0); /* to 8150 */
	CHECK(rotate(s, "x1", "y1", 8120, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_REUSED);
	CHECK(rotate(s, "x3", "x4", 8121, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_REVOKED);
	/* Positive control: an expired token never rotated is only expired,
	 * and its family lives on. */
	CHECK(login(s, "z1", 8000, &g) == 0);
	CHECK(rotate(s, "z1", "z2", 8100, &why, &g2) == -1);
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

/* The family's absolute lifetime is checked by the rotation itself. Every
 * token's expiry is capped at its family's when it is issued, so that
 * check is invisible as long as families keep the expiry they were made
 * with; here the family is shortened after the token was issued (an
 * operator ending sessions early, a lower family_ttl applied to live
 * families), and the token's own, later expiry must not carry it on. */
static void
test_family_expiry_is_checked_on_its_own(void)
{
	struct store *s = open_store();
	struct store_grant g, g2;
	enum store_refusal why;

	if (s == NULL)
		return;
	CHECK(login(s, "f1", 7000, &g) == 0);
	CHECK(g.token_expires == 7100 && g.family_expires == 8000);
	CHECK(exec_other("UPDATE families SET expires_at = 7050 WHERE id = ?1",
	          g.family_id) == 0);
	/* The token alone would live to 7100: the family ends at 7050. */
	CHECK(rotate(s, "f1", "f2", 7050, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_EXPIRED);
	CHECK(rotate(s, "f1", "f2", 7080, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_EXPIRED);
	/* Positive control: a second earlier the rotation succeeds, and the
	 * new token is capped at the shortened family. */
	CHECK(rotate(s, "f1", "f2", 7049, &why, &g2) == 0);
	CHECK(g2.family_expires == 7050 && g2.token_expires == 7050);
	store_free(s);
}

/* The rotation's "exactly one row changed" check, the one line that turns
 * a lost race into reuse rather than a second token. With SQLite it cannot
 * fail by itself: BEGIN IMMEDIATE holds the write lock from the lookup on,
 * so no other connection can use the token in between. A backend without
 * that lock (PostgreSQL at READ COMMITTED: the competing UPDATE commits,
 * ours re-evaluates its WHERE and changes nothing) reaches it. To make the
 * check observable without giving up the real transaction, a trigger made
 * on a second connection plays the competitor at the exact moment of our
 * UPDATE: it marks the token used, as the winner of the race would have,
 * and RAISE(IGNORE) makes our UPDATE change no row. The rotation must then
 * refuse, as reuse, and issue nothing; with the check gone it would hand
 * out a second live token of the family (a double spend). */
static void
test_lost_race_on_the_update_is_reuse(void)
{
	struct store *s = open_store();
	struct store_grant g, g2;
	enum store_refusal why;

	if (s == NULL)
		return;
	CHECK(login(s, "c1", 4000, &g) == 0);
	CHECK(exec_other("CREATE TRIGGER test_competitor BEFORE UPDATE OF "
	                 "used_at ON refresh_tokens WHEN NEW.used_at = 4042 "
	                 "BEGIN UPDATE refresh_tokens SET used_at = 4041 WHERE "
	                 "id = OLD.id; SELECT RAISE(IGNORE); END",
	          NULL) == 0);
	CHECK(rotate(s, "c1", "c2", 4042, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_REUSED);
	CHECK(exec_other("DROP TRIGGER test_competitor", NULL) == 0);
	/* Nothing was issued, and the family is revoked, committed. */
	CHECK(scalar("SELECT count(*) FROM refresh_tokens WHERE family_id = ?1",
	          g.family_id) == 1);
	CHECK(scalar("SELECT revoked_reason = 'reuse' FROM families WHERE "
	             "id = ?1",
	          g.family_id) == 1);
	CHECK(rotate(s, "c2", "c3", 4043, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_UNKNOWN);
	/* Positive control: without the competitor a fresh family rotates. */
	CHECK(login(s, "c4", 4000, &g) == 0);
	CHECK(rotate(s, "c4", "c5", 4042, &why, &g2) == 0);
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
	struct store *s = open_store();
	const char *roles[] = { "user" };
	struct store_seed_user su = { "gone", 4, roles, 1 };
	struct store_user *u = NULL;
	struct store_grant g, g2;
	enum store_refusal why;
	unsigned char a[STORE_HASH_LEN], b[STORE_HASH_LEN];
	struct err e = { 0 };

	if (s == NULL)
		return;
	CHECK(store_seed_user(s, &su, "$argon2id$x", NULL, 1, &e) == 0);
	CHECK(store_find_user(s, "gone", 4, &u, &e) == 0 && u != NULL);
	if (u == NULL) {
		store_free(s);
		return;
	}
	token("d1", a);
	CHECK(store_create_family(
	          s, u->id, "demo-client", a, 3000, 100, 1000, &g, &e) == 0);
	store_user_free(u);
	u = NULL;
	/* Positive control: the user's token rotates while the user exists. */
	token("d2", b);
	CHECK(store_rotate(s, a, b, 3001, 100, &g2, &u, &why, &e) == 0);
	CHECK(u != NULL);
	store_user_free(u);
	u = NULL;
	CHECK(exec_other("DELETE FROM users WHERE username = ?1", "gone") == 0);
	CHECK(scalar("SELECT count(*) FROM families WHERE id = ?1",
	          g.family_id) == 1);
	token("d3", a);
	e = (struct err){ 0 };
	CHECK(store_rotate(s, b, a, 3002, 100, &g2, &u, &why, &e) == -1);
	CHECK(u == NULL);
	CHECK(why == STORE_REFUSED_UNKNOWN && e.code == ERR_INVALID_GRANT);
	store_user_free(u);
	CHECK(scalar("SELECT count(*) FROM refresh_tokens WHERE family_id = ?1",
	          g.family_id) == 2);
	/* The orphan family is tidied so the integrity test stays clean
	 * (without foreign keys, by hand). */
	CHECK(exec_other("DELETE FROM refresh_tokens WHERE family_id = ?1",
	          g.family_id) == 0);
	CHECK(
	    exec_other("DELETE FROM families WHERE id = ?1", g.family_id) == 0);
	store_free(s);
}

static void
test_logout_revokes_family(void)
{
	struct store *s = open_store();
	struct store_grant g, g2;
	enum store_refusal why;
	unsigned char h[STORE_HASH_LEN];
	struct err e = { 0 };
	bool found = true;

	if (s == NULL)
		return;
	CHECK(login(s, "l1", 100, &g) == 0);
	CHECK(rotate(s, "l1", "l2", 101, &why, &g2) == 0);
	/* Logging out with the older (used) token still ends the family. */
	token("l1", h);
	CHECK(store_revoke(s, h, "logout", 102, &g2, &found, &e) == 0);
	CHECK(found && strcmp(g2.family_id, g.family_id) == 0);
	CHECK(rotate(s, "l2", "l3", 103, &why, &g2) == -1);
	CHECK(why == STORE_REFUSED_REVOKED);
	token("not-a-token", h);
	CHECK(store_revoke(s, h, "logout", 104, &g2, &found, &e) == 0);
	CHECK(!found);
	/* A second logout of the same family is fine too. */
	token("l2", h);
	CHECK(store_revoke(s, h, "logout", 105, &g2, &found, &e) == 0 && found);
	store_free(s);
}

static void
test_purge(void)
{
	struct store *s = open_store();
	struct store_grant g;
	struct err e = { 0 };

	if (s == NULL)
		return;
	CHECK(login(s, "p1", 1, &g) == 0); /* family expires at 1001 */
	CHECK(scalar("SELECT count(*) FROM refresh_tokens WHERE family_id = ?1",
	          g.family_id) == 1);
	CHECK(store_purge(s, 1001, &e) == 0);
	CHECK(scalar("SELECT count(*) FROM families WHERE id = ?1",
	          g.family_id) == 1);
	CHECK(store_purge(s, 1002, &e) == 0);
	CHECK(scalar("SELECT count(*) FROM families WHERE id = ?1",
	          g.family_id) == 0);
	/* Its tokens go with it (ON DELETE CASCADE). */
	CHECK(scalar("SELECT count(*) FROM refresh_tokens WHERE family_id = ?1",
	          g.family_id) == 0);
	store_free(s);
}

#define RACERS 8

struct racer {
	int index;
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
	char new[32];

	snprintf(new, sizeof(new), "race-new-%d", r->index);
	pthread_barrier_wait(r->start);
	r->rc = s != NULL ? rotate(s, "race-0", new, 200, &r->why, &g) : -2;
	store_free(s);
	return NULL;
}

/* Eight connections rotate one token at once: exactly one wins, the
 * first loser counts as reuse, so the family ends revoked. */
static void
test_concurrent_rotation(void)
{
	struct store *s = open_store();
	pthread_t t[RACERS];
	struct racer r[RACERS];
	pthread_barrier_t start;
	struct store_grant g;
	int wins = 0, reused = 0, revoked = 0;

	if (s == NULL)
		return;
	CHECK(login(s, "race-0", 199, &g) == 0);
	pthread_barrier_init(&start, NULL, RACERS);
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){ .index = i, .start = &start };
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
	CHECK(scalar("SELECT count(*) FROM refresh_tokens WHERE family_id = ?1",
	          g.family_id) == 2);
	store_free(s);
}

static long
file_size(const char *suffix)
{
	char name[300];
	struct stat st;

	snprintf(name, sizeof(name), "%s%s", path, suffix);
	return stat(name, &st) == 0 ? (long)st.st_size : -1;
}

/* SQLite's checkpoints keep the WAL bounded under a steady write load:
 * 2000 logins write about 8000 pages, the WAL stays near its 1000-page
 * checkpoint threshold. */
static void
test_wal_stays_bounded(void)
{
	struct store *s = open_store();
	struct store_grant g;
	char tok[32];

	if (s == NULL)
		return;
	for (int i = 0; i < 2000; i++) {
		snprintf(tok, sizeof(tok), "wal-%d", i);
		CHECK(login(s, tok, 3000, &g) == 0);
	}
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
	snprintf(path, sizeof(path), "%s/auth.db", dir);
	if ((s = open_store()) == NULL ||
	    store_seed_user(s, &su, "$argon2id$x", NULL, 1, &e) == -1 ||
	    store_find_user(s, "u", 1, &u, &e) == -1 || u == NULL)
		return 1;
	user_id = u->id;
	store_user_free(u);
	store_free(s);
	RUN(test_rotation_and_reuse);
	RUN(test_expiry_and_absolute_lifetime);
	RUN(test_expired_reused_token_revokes);
	RUN(test_family_expiry_is_checked_on_its_own);
	RUN(test_lost_race_on_the_update_is_reuse);
	RUN(test_user_deleted_without_cascade);
	RUN(test_logout_revokes_family);
	RUN(test_purge);
	RUN(test_concurrent_rotation);
	RUN(test_wal_stays_bounded);
	RUN(test_integrity);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return test_report();
}
