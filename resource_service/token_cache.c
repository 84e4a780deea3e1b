/* token_cache: a set-associative table of verified tokens. The set is
 * chosen by a keyed SipHash (libsodium crypto_shorthash, random key) of the
 * token's length and its last bytes, which lie in the signature: only
 * tokens that verified are ever stored, and their signatures are not
 * something a client can steer. A hit still compares the whole token, so a
 * collision can never return another token's claims. That compare is not
 * constant-time: to learn anything from it a guess must first match a
 * secret-keyed 64-bit hash. Eviction is least recently used within a
 * set. */
#include "token_cache.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "jws.h"
#include "secret.h"

#define TOKEN_CACHE_WAYS 4
#define TOKEN_CACHE_HASHED_TAIL 48 /* bytes hashed, from the end */

struct token_cache_entry {
	uint64_t hash;
	uint64_t last_use; /* tick of the last hit or store, for LRU */
	char *token;       /* NULL: empty slot */
	size_t len;
	struct access_token *verified;
};

struct token_cache {
	struct token_cache_entry *slots; /* n_sets * ways */
	size_t n_sets;                   /* a power of two */
	size_t ways;
	size_t count;
	uint64_t tick;
	unsigned char key[crypto_shorthash_KEYBYTES];
	struct token_cache_stats stats;
};

struct token_cache *
token_cache_new(size_t entries)
{
	struct token_cache *c;

	if (entries > TOKEN_CACHE_MAX_ENTRIES ||
	    (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (entries == 0)
		return c;
	c->ways = entries < TOKEN_CACHE_WAYS ? entries : TOKEN_CACHE_WAYS;
	/* Round the set count down to a power of two so the capacity never
	 * exceeds what was configured. */
	c->n_sets = 1;
	while (c->n_sets * 2 * c->ways <= entries)
		c->n_sets *= 2;
	if ((c->slots = calloc(c->n_sets * c->ways, sizeof(*c->slots))) ==
	    NULL) {
		free(c);
		return NULL;
	}
	secret_random(c->key, sizeof(c->key));
	return c;
}

static void
entry_drop(struct token_cache *c, struct token_cache_entry *s)
{
	if (s->token == NULL)
		return;
	free(s->token);
	access_token_free(s->verified);
	*s = (struct token_cache_entry){ 0 };
	c->count--;
}

void
token_cache_clear(struct token_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_sets * c->ways; i++)
		entry_drop(c, &c->slots[i]);
}

void
token_cache_free(struct token_cache *c)
{
	if (c == NULL)
		return;
	token_cache_clear(c);
	free(c->slots);
	sodium_memzero(c->key, sizeof(c->key));
	free(c);
}

static uint64_t
token_hash(const struct token_cache *c, const char *token, size_t len)
{
	unsigned char in[sizeof(uint64_t) + TOKEN_CACHE_HASHED_TAIL];
	unsigned char out[crypto_shorthash_BYTES];
	size_t tail =
	    len < TOKEN_CACHE_HASHED_TAIL ? len : TOKEN_CACHE_HASHED_TAIL;
	uint64_t h = len;

	memcpy(in, &h, sizeof(h));
	memcpy(in + sizeof(h), token + len - tail, tail);
	crypto_shorthash(out, in, sizeof(h) + tail, c->key);
	memcpy(&h, out, sizeof(h));
	return h;
}

static struct token_cache_entry *
set_of(struct token_cache *c, uint64_t hash)
{
	return &c->slots[(hash & (c->n_sets - 1)) * c->ways];
}

/* Served only inside the token's own window, without the verifier's
 * leeway: the cache may answer "ask the verifier" more often than needed,
 * never "valid" when the verifier would say otherwise (RFC 7519 4.1.4,
 * 4.1.5). */
static bool
in_window(const struct access_token *t, int64_t now)
{
	return now >= t->nbf && now < t->exp;
}

const struct access_token *
token_cache_get(
    struct token_cache *c, const char *token, size_t len, int64_t now)
{
	struct token_cache_entry *set;
	uint64_t hash;

	if (c == NULL || c->slots == NULL || len > JWT_MAX_TOKEN_LEN)
		return NULL;
	hash = token_hash(c, token, len);
	set = set_of(c, hash);
	for (size_t i = 0; i < c->ways; i++) {
		struct token_cache_entry *s = &set[i];
		if (s->token == NULL || s->hash != hash || s->len != len ||
		    memcmp(s->token, token, len) != 0)
			continue;
		if (!in_window(s->verified, now)) {
			entry_drop(c, s);
			c->stats.expired++;
			break;
		}
		s->last_use = ++c->tick;
		c->stats.hits++;
		return s->verified;
	}
	c->stats.misses++;
	return NULL;
}

bool
token_cache_put(struct token_cache *c, const char *token, size_t len,
    struct access_token *t, int64_t now)
{
	struct token_cache_entry *set, *victim = NULL;
	bool same = false;
	uint64_t hash;
	char *copy;

	if (c == NULL || c->slots == NULL || len > JWT_MAX_TOKEN_LEN ||
	    !in_window(t, now))
		return false;
	hash = token_hash(c, token, len);
	set = set_of(c, hash);
	for (size_t i = 0; i < c->ways; i++) {
		struct token_cache_entry *s = &set[i];
		/* The same token again (two misses in a row): replace it. */
		if (s->token != NULL && s->hash == hash && s->len == len &&
		    memcmp(s->token, token, len) == 0) {
			victim = s;
			same = true;
			break;
		}
		if (s->token != NULL && !in_window(s->verified, now)) {
			entry_drop(c, s);
			c->stats.expired++;
		}
		if (victim == NULL || s->token == NULL ||
		    (victim->token != NULL && s->last_use < victim->last_use))
			victim = s;
	}
	if ((copy = malloc(len)) == NULL)
		return false;
	memcpy(copy, token, len);
	if (victim->token != NULL) {
		c->stats.evictions += !same;
		entry_drop(c, victim);
	}
	*victim = (struct token_cache_entry){ .hash = hash,
		.last_use = ++c->tick,
		.token = copy,
		.len = len,
		.verified = t };
	c->count++;
	c->stats.stores++;
	return true;
}

size_t
token_cache_sweep(struct token_cache *c, int64_t now)
{
	size_t dropped = 0;

	if (c == NULL)
		return 0;
	for (size_t i = 0; i < c->n_sets * c->ways; i++) {
		struct token_cache_entry *s = &c->slots[i];
		if (s->token != NULL && !in_window(s->verified, now)) {
			entry_drop(c, s);
			dropped++;
		}
	}
	c->stats.expired += dropped;
	return dropped;
}

size_t
token_cache_count(const struct token_cache *c)
{
	return c != NULL ? c->count : 0;
}

size_t
token_cache_capacity(const struct token_cache *c)
{
	return c != NULL ? c->n_sets * c->ways : 0;
}

void
token_cache_get_stats(
    const struct token_cache *c, struct token_cache_stats *out)
{
	*out = c != NULL ? c->stats : (struct token_cache_stats){ 0 };
}
