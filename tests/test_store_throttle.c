/* test_store_throttle: the failed-login state a shared store keeps
 * (store.h throttle ops, shared_throttle.c). On PostgreSQL (JWT_TEST_PG_URL,
 * see store_backend.h): counts, the quiet window, blocks that only grow,
 * a success forgetting the user key, keys that never hold the name, two
 * connections (two issuers) counting into one row, and the purge of quiet
 * rows. On SQLite: not shared, so the in-memory throttle stays the whole
 * state and the ops refuse. */
#include <string.h>

#include "refresh_token.h"
#include "secret.h"
#include "shared_throttle.h"
#include "store.h"
#include "store_backend.h"
#include "test.h"

static char dir[] = "/tmp/test_store_throttle.XXXXXX";
static char path[512];

static struct store *
open_store(void)
{
	struct err e = { 0 };
	struct store *s = store_open(path, 1000, &e);

	if (s == NULL)
		fprintf(stderr, "open: %s\n", e.msg);
	CHECK(s != NULL);
	return s;
}

static const unsigned char key_a[STORE_THROTTLE_KEY_LEN] = "0123456789abcde";

static void
test_counts_window_block_clear(void)
{
	struct store *s = open_store(), *s2 = open_store();
	struct err e = { 0 };
	int64_t n = 0, until = -1;

	if (s == NULL || s2 == NULL)
		goto out;
	CHECK(store_shares_throttle(s));
	CHECK(store_throttle_get(s, key_a, &until, &e) == 0 && until == 0);
	/* Two connections, as two issuers: one count. */
	CHECK(store_throttle_fail(s, key_a, 1000, 900, &n, &e) == 0 && n == 1);
	CHECK(store_throttle_fail(s2, key_a, 1001, 900, &n, &e) == 0 && n == 2);
	CHECK(store_throttle_fail(s, key_a, 1002, 900, &n, &e) == 0 && n == 3);
	/* A block only grows. */
	CHECK(store_throttle_block(s2, key_a, 1100, &e) == 0);
	CHECK(store_throttle_block(s, key_a, 1050, &e) == 0);
	CHECK(store_throttle_get(s, key_a, &until, &e) == 0 && until == 1100);
	/* Quiet for the window but still blocked: the count goes on. */
	CHECK(store_throttle_fail(s, key_a, 1099, 90, &n, &e) == 0 && n == 4);
	/* Quiet for the window and no longer blocked: it starts again. */
	CHECK(store_throttle_fail(s, key_a, 1300, 90, &n, &e) == 0 && n == 1);
	CHECK(store_throttle_clear(s2, key_a, &e) == 0);
	CHECK(store_throttle_get(s, key_a, &until, &e) == 0 && until == 0);
	CHECK(store_throttle_fail(s, key_a, 1301, 90, &n, &e) == 0 && n == 1);
out:
	store_free(s);
	store_free(s2);
}

/* shared_throttle.c over the store: the policy's delays, both keys, and a
 * success forgetting only the user key. */
static void
test_shared_throttle_policy(void)
{
	const struct throttle_policy p[THROTTLE_KINDS] = {
		[THROTTLE_USER] = { 2, 10, 40, 900 },
		[THROTTLE_ADDR] = { 100, 1, 60, 900 },
	};
	struct throttle *t;
	struct refresh_key rk;
	struct shared_throttle_keys k, other;
	struct store *s = open_store();
	struct err e = { 0 };
	int64_t wait = -1;

	if (s == NULL || (t = throttle_new(p, 64, &e)) == NULL) {
		store_free(s);
		return;
	}
	memset(rk.k, 7, sizeof(rk.k));
	shared_throttle_keys(&rk, "mallory", 7, "192.0.2.1", &k);
	shared_throttle_keys(&rk, "mallorz", 7, "192.0.2.1", &other);
	/* Keyed hashes: different names, different keys; kinds apart. */
	CHECK(memcmp(k.k[THROTTLE_USER], other.k[THROTTLE_USER],
	          STORE_THROTTLE_KEY_LEN) != 0);
	CHECK(memcmp(k.k[THROTTLE_ADDR], other.k[THROTTLE_ADDR],
	          STORE_THROTTLE_KEY_LEN) == 0);
	CHECK(memcmp(k.k[THROTTLE_USER], k.k[THROTTLE_ADDR],
	          STORE_THROTTLE_KEY_LEN) != 0);
	for (int i = 0; i < 2; i++)
		CHECK(shared_throttle_failure(s, &k, t, 5000, &e) == 0);
	CHECK(shared_throttle_wait(s, &k, 5000, &wait, &e) == 0 && wait == 0);
	CHECK(shared_throttle_failure(s, &k, t, 5000, &e) == 0); /* 3rd */
	CHECK(shared_throttle_wait(s, &k, 5001, &wait, &e) == 0 && wait == 9);
	CHECK(shared_throttle_failure(s, &k, t, 5001, &e) == 0); /* 4th */
	CHECK(shared_throttle_wait(s, &k, 5001, &wait, &e) == 0 && wait == 20);
	/* The same secret on another issuer gives the same keys. */
	shared_throttle_keys(&rk, "mallory", 7, "192.0.2.1", &other);
	CHECK(shared_throttle_wait(s, &other, 5001, &wait, &e) == 0 &&
	      wait == 20);
	CHECK(tb_scalar(path,
	          "SELECT count(*) FROM login_failures WHERE"
	          " position('mallory' in encode(key, 'escape')) > 0",
	          NULL) == 0);
	CHECK(shared_throttle_success(s, &k, &e) == 0);
	CHECK(shared_throttle_wait(s, &k, 5001, &wait, &e) == 0 && wait == 0);
	throttle_free(t);
	store_free(s);
}

/* Rows quiet for a day and not blocked go with the purge. */
static void
test_purge_drops_quiet_rows(void)
{
	static const unsigned char old[STORE_THROTTLE_KEY_LEN] =
	    "old-key-0000000";
	static const unsigned char blocked[STORE_THROTTLE_KEY_LEN] =
	    "blocked-key-000";
	struct store *s = open_store();
	struct err e = { 0 };
	int64_t n, deleted;

	if (s == NULL)
		return;
	CHECK(store_throttle_fail(s, old, 10, 900, &n, &e) == 0);
	CHECK(store_throttle_fail(s, blocked, 10, 900, &n, &e) == 0);
	CHECK(store_throttle_block(s, blocked, 200000, &e) == 0);
	CHECK(store_purge(s, 100000, 100, &deleted, &e) == 0);
	CHECK(tb_scalar(path,
	          "SELECT count(*) FROM login_failures WHERE"
	          " last_failure = 10",
	          NULL) == 1);
	store_free(s);
}

/* SQLite: one process's file; the in-memory throttle is the state. */
static void
test_sqlite_is_not_shared(void)
{
	struct store *s = open_store();
	struct err e = { 0 };
	int64_t until;

	if (s == NULL)
		return;
	CHECK(!store_shares_throttle(s));
	CHECK(store_throttle_get(s, key_a, &until, &e) == -1);
	CHECK(e.code == ERR_INTERNAL);
	store_free(s);
}

int
main(void)
{
	if (secret_init() == -1 || mkdtemp(dir) == NULL)
		return 1;
	tb_fresh(dir, "store_throttle", path, sizeof(path));
	if (tb_pg()) {
		RUN(test_counts_window_block_clear);
		RUN(test_shared_throttle_policy);
		RUN(test_purge_drops_quiet_rows);
	} else {
		RUN(test_sqlite_is_not_shared);
	}
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return test_report();
}
