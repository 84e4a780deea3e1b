/* token_cache: a bounded per-worker cache of verified access tokens, keyed
 * by the whole token, so a client that repeats its token skips the
 * signature check. An entry is only ever served inside the token's own
 * validity window [nbf, exp) measured by the caller's clock, and the whole
 * cache is emptied when the key set changes. Not thread-safe: one per
 * worker, no lock. */
#ifndef RESOURCE_TOKEN_CACHE_H
#define RESOURCE_TOKEN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verify.h"

#define TOKEN_CACHE_MAX_ENTRIES ((size_t)1024 * 1024)

struct token_cache_stats {
	uint64_t hits, misses, stores, evictions, expired;
};

/* entries: the most tokens kept at once (0: a cache that stores nothing).
 * Needs secret_init() first (the hash key is random). NULL on out of
 * memory or entries above TOKEN_CACHE_MAX_ENTRIES. */
struct token_cache *token_cache_new(size_t entries);
void token_cache_free(struct token_cache *c);

/* The verified token stored for exactly token[0..len), if now lies in its
 * [nbf, exp) window; borrowed until the next put or clear. An entry found
 * outside its window is dropped. */
const struct access_token *token_cache_get(
    struct token_cache *c, const char *token, size_t len, int64_t now);

/* Offers a freshly verified token. Returns true if the cache took t (it
 * stays valid until the next put or clear); false if not (cache off, token
 * too long, or already outside its window): t is still the caller's. */
bool token_cache_put(struct token_cache *c, const char *token, size_t len,
    struct access_token *t, int64_t now);

/* Drops every entry: the key set changed, so no earlier verdict holds. */
void token_cache_clear(struct token_cache *c);

/* Drops the entries outside their window at now, so a token nobody
 * presents again is not kept in memory past its exp. Returns how many. */
size_t token_cache_sweep(struct token_cache *c, int64_t now);

size_t token_cache_count(const struct token_cache *c);
size_t token_cache_capacity(const struct token_cache *c);
void token_cache_get_stats(
    const struct token_cache *c, struct token_cache_stats *out);

#endif
