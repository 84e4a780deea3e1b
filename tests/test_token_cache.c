/* test_token_cache: the verified-token cache serves only exact tokens,
 * only inside [nbf, exp), stays within its bound and empties on clear.
 * Every refusal sits next to a positive control. */
#include <stdlib.h>
#include <string.h>

#include "jws.h"
#include "secret.h"
#include "test.h"
#include "token_cache.h"

static struct access_token *
make_token(const char *sub, int64_t nbf, int64_t exp)
{
	struct access_token *t = calloc(1, sizeof(*t));

	if (t == NULL)
		abort();
	t->sub.s = strdup(sub);
	t->sub.len = strlen(sub);
	t->nbf = nbf;
	t->iat = nbf;
	t->exp = exp;
	return t;
}

static void
test_hit_and_exact_key(void)
{
	struct token_cache *c = token_cache_new(16);
	struct access_token *t = make_token("alice", 100, 200);
	const struct access_token *got;

	CHECK(c != NULL);
	CHECK(token_cache_get(c, "aaa.bbb.ccc", 11, 150) == NULL);
	CHECK(token_cache_put(c, "aaa.bbb.ccc", 11, t, 150));
	got = token_cache_get(c, "aaa.bbb.ccc", 11, 150);
	CHECK(got == t);
	/* Only the whole token matches: no prefix, no extension, no
	 * byte after an embedded NUL ignored. */
	CHECK(token_cache_get(c, "aaa.bbb.cc", 10, 150) == NULL);
	CHECK(token_cache_get(c, "aaa.bbb.cccd", 12, 150) == NULL);
	CHECK(token_cache_get(c, "aaa.bbb.ccc\0", 12, 150) == NULL);
	CHECK(token_cache_get(c, "aaa.bbb.ccd", 11, 150) == NULL);
	CHECK(token_cache_get(c, "aaa.bbb.ccc", 11, 150) == t);
	CHECK(token_cache_count(c) == 1);
	token_cache_free(c);
}

/* Tokens that share length and tail land in one set: the full compare
 * still tells them apart. */
static void
test_same_tail(void)
{
	struct token_cache *c = token_cache_new(64);
	char a[200], b[200];
	struct access_token *ta = make_token("a", 100, 200);
	struct access_token *tb = make_token("b", 100, 200);

	memset(a, 'x', sizeof(a));
	memset(b, 'x', sizeof(b));
	a[0] = 'A';
	b[0] = 'B';
	CHECK(token_cache_put(c, a, sizeof(a), ta, 150));
	CHECK(token_cache_get(c, b, sizeof(b), 150) == NULL);
	CHECK(token_cache_put(c, b, sizeof(b), tb, 150));
	CHECK(token_cache_get(c, a, sizeof(a), 150) == ta);
	CHECK(token_cache_get(c, b, sizeof(b), 150) == tb);
	token_cache_free(c);
}

/* exp is exclusive (RFC 7519 4.1.4) and the cache applies no leeway: a
 * token is never served at or after its exp. */
static void
test_never_past_exp(void)
{
	struct token_cache *c = token_cache_new(16);
	struct token_cache_stats st;

	CHECK(token_cache_put(c, "tok", 3, make_token("a", 100, 200), 150));
	CHECK(token_cache_get(c, "tok", 3, 199) != NULL);
	CHECK(token_cache_get(c, "tok", 3, 200) == NULL);
	/* The stale entry was dropped, not just skipped. */
	CHECK(token_cache_count(c) == 0);
	CHECK(token_cache_get(c, "tok", 3, 150) == NULL);
	token_cache_get_stats(c, &st);
	CHECK(st.expired == 1);
	token_cache_free(c);
}

static void
test_not_before_nbf(void)
{
	struct token_cache *c = token_cache_new(16);
	struct access_token *t = make_token("a", 100, 200);

	CHECK(token_cache_put(c, "tok", 3, t, 100));
	CHECK(token_cache_get(c, "tok", 3, 100) == t);
	/* A clock that steps back before nbf is not served from cache. */
	CHECK(token_cache_get(c, "tok", 3, 99) == NULL);
	token_cache_free(c);
}

static void
test_put_refuses_outside_window(void)
{
	struct token_cache *c = token_cache_new(16);
	struct access_token *late = make_token("a", 100, 200);
	struct access_token *early = make_token("a", 100, 200);
	struct access_token *ok = make_token("a", 100, 200);

	CHECK(!token_cache_put(c, "tok", 3, late, 200));
	CHECK(!token_cache_put(c, "tok", 3, early, 99));
	CHECK(token_cache_count(c) == 0);
	CHECK(token_cache_put(c, "tok", 3, ok, 199));
	access_token_free(late);
	access_token_free(early);
	token_cache_free(c);
}

static void
test_disabled(void)
{
	struct token_cache *c = token_cache_new(0);
	struct access_token *t = make_token("a", 100, 200);

	CHECK(c != NULL);
	CHECK(token_cache_capacity(c) == 0);
	CHECK(!token_cache_put(c, "tok", 3, t, 150));
	CHECK(token_cache_get(c, "tok", 3, 150) == NULL);
	access_token_free(t);
	token_cache_free(c);
	CHECK(token_cache_new(TOKEN_CACHE_MAX_ENTRIES + 1) == NULL);
}

static void
test_too_long(void)
{
	struct token_cache *c = token_cache_new(16);
	size_t len = JWT_MAX_TOKEN_LEN + 1;
	char *big = malloc(len);
	struct access_token *t = make_token("a", 100, 200);

	memset(big, 'a', len);
	CHECK(!token_cache_put(c, big, len, t, 150));
	CHECK(token_cache_put(c, big, len - 1, t, 150));
	CHECK(token_cache_get(c, big, len - 1, 150) == t);
	free(big);
	token_cache_free(c);
}

/* Bounded: however many distinct tokens arrive, at most capacity are
 * kept, and the capacity never exceeds what was asked. */
static void
test_bounded(void)
{
	size_t sizes[] = { 1, 3, 5, 100, 1000 };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(*sizes); k++) {
		struct token_cache *c = token_cache_new(sizes[k]);
		struct token_cache_stats st;
		char tok[32];
		size_t stored = 0;

		CHECK(token_cache_capacity(c) <= sizes[k]);
		CHECK(token_cache_capacity(c) * 2 > sizes[k]);
		for (int i = 0; i < 5000; i++) {
			int n = snprintf(tok, sizeof(tok), "token-%d", i);
			stored += token_cache_put(
			    c, tok, (size_t)n, make_token("a", 100, 200), 150);
			CHECK(token_cache_count(c) <= token_cache_capacity(c));
		}
		CHECK(stored == 5000);
		token_cache_get_stats(c, &st);
		CHECK(st.evictions == 5000 - token_cache_count(c));
		/* The newest token is always present. */
		CHECK(token_cache_get(c, tok, strlen(tok), 150) != NULL);
		token_cache_free(c);
	}
}

/* Within a set the least recently used entry goes first. */
static void
test_lru(void)
{
	struct token_cache *c = token_cache_new(2); /* one set, two ways */

	CHECK(token_cache_capacity(c) == 2);
	CHECK(token_cache_put(c, "one", 3, make_token("1", 100, 200), 150));
	CHECK(token_cache_put(c, "two", 3, make_token("2", 100, 200), 150));
	CHECK(token_cache_get(c, "one", 3, 150) != NULL); /* one is fresh */
	CHECK(token_cache_put(c, "three", 5, make_token("3", 100, 200), 150));
	CHECK(token_cache_get(c, "two", 3, 150) == NULL);
	CHECK(token_cache_get(c, "one", 3, 150) != NULL);
	CHECK(token_cache_get(c, "three", 5, 150) != NULL);
	token_cache_free(c);
}

/* Expired entries are reclaimed before live ones are evicted. */
static void
test_expired_evicted_first(void)
{
	struct token_cache *c = token_cache_new(2);

	CHECK(token_cache_put(c, "old", 3, make_token("1", 100, 160), 150));
	CHECK(token_cache_put(c, "live", 4, make_token("2", 100, 500), 150));
	CHECK(token_cache_get(c, "live", 4, 150) != NULL);
	CHECK(token_cache_get(c, "old", 3, 150) != NULL); /* old is MRU */
	CHECK(token_cache_put(c, "new", 3, make_token("3", 100, 500), 170));
	CHECK(token_cache_get(c, "live", 4, 170) != NULL);
	CHECK(token_cache_get(c, "new", 3, 170) != NULL);
	token_cache_free(c);
}

static void
test_same_token_replaced(void)
{
	struct token_cache *c = token_cache_new(8);
	struct access_token *a = make_token("a", 100, 200);
	struct access_token *b = make_token("b", 100, 300);
	struct token_cache_stats st;

	CHECK(token_cache_put(c, "tok", 3, a, 150));
	CHECK(token_cache_put(c, "tok", 3, b, 150));
	CHECK(token_cache_count(c) == 1);
	CHECK(token_cache_get(c, "tok", 3, 150) == b);
	token_cache_get_stats(c, &st);
	CHECK(st.evictions == 0);
	token_cache_free(c);
}

static void
test_clear(void)
{
	struct token_cache *c = token_cache_new(64);
	struct token_cache_stats st;

	CHECK(token_cache_put(c, "a", 1, make_token("a", 100, 200), 150));
	CHECK(token_cache_put(c, "b", 1, make_token("b", 100, 200), 150));
	CHECK(token_cache_get(c, "a", 1, 150) != NULL);
	token_cache_clear(c);
	CHECK(token_cache_count(c) == 0);
	CHECK(token_cache_get(c, "a", 1, 150) == NULL);
	CHECK(token_cache_get(c, "b", 1, 150) == NULL);
	token_cache_get_stats(c, &st);
	CHECK(st.hits == 1 && st.misses == 2 && st.stores == 2);
	/* Usable again after a clear. */
	CHECK(token_cache_put(c, "a", 1, make_token("a", 100, 200), 150));
	CHECK(token_cache_get(c, "a", 1, 150) != NULL);
	token_cache_free(c);
	token_cache_free(NULL);
	token_cache_clear(NULL);
}

/* A token nobody presents again still leaves memory once expired. */
static void
test_sweep(void)
{
	struct token_cache *c = token_cache_new(64);

	CHECK(token_cache_put(c, "a", 1, make_token("a", 100, 160), 150));
	CHECK(token_cache_put(c, "b", 1, make_token("b", 100, 500), 150));
	CHECK(token_cache_sweep(c, 159) == 0);
	CHECK(token_cache_count(c) == 2);
	CHECK(token_cache_sweep(c, 160) == 1);
	CHECK(token_cache_count(c) == 1);
	CHECK(token_cache_get(c, "b", 1, 160) != NULL);
	CHECK(token_cache_sweep(c, 500) == 1);
	CHECK(token_cache_count(c) == 0);
	CHECK(token_cache_sweep(NULL, 0) == 0);
	token_cache_free(c);
}

int
main(void)
{
	CHECK(secret_init() == 0);
	RUN(test_hit_and_exact_key);
	RUN(test_same_tail);
	RUN(test_never_past_exp);
	RUN(test_not_before_nbf);
	RUN(test_put_refuses_outside_window);
	RUN(test_disabled);
	RUN(test_too_long);
	RUN(test_bounded);
	RUN(test_lru);
	RUN(test_expired_evicted_first);
	RUN(test_same_token_replaced);
	RUN(test_clear);
	RUN(test_sweep);
	return test_report();
}
