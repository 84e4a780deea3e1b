/* shared_throttle: failed-login state in a store every issuer shares. */
#include "shared_throttle.h"

#include <sodium.h>
#include <string.h>

/* Domain separation: this key hashes throttle keys and nothing else. */
static const char shared_throttle_label[] = "jwt-auth throttle key v1";

void
shared_throttle_keys(const struct refresh_key *secret, const char *user,
    size_t user_len, const char *addr, struct shared_throttle_keys *out)
{
	unsigned char hk[crypto_generichash_KEYBYTES];
	const char *in[THROTTLE_KINDS] = {
		[THROTTLE_USER] = user, [THROTTLE_ADDR] = addr
	};
	size_t len[THROTTLE_KINDS] = {
		[THROTTLE_USER] = user_len, [THROTTLE_ADDR] = strlen(addr)
	};

	crypto_generichash(hk, sizeof(hk),
	    (const unsigned char *)shared_throttle_label,
	    sizeof(shared_throttle_label) - 1, secret->k, sizeof(secret->k));
	for (int kind = 0; kind < THROTTLE_KINDS; kind++) {
		crypto_generichash_state st;
		unsigned char kb = (unsigned char)kind;

		crypto_generichash_init(
		    &st, hk, sizeof(hk), STORE_THROTTLE_KEY_LEN);
		crypto_generichash_update(&st, &kb, 1);
		crypto_generichash_update(
		    &st, (const unsigned char *)in[kind], len[kind]);
		crypto_generichash_final(
		    &st, out->k[kind], STORE_THROTTLE_KEY_LEN);
	}
	sodium_memzero(hk, sizeof(hk));
}

int
shared_throttle_wait(struct store *s, const struct shared_throttle_keys *k,
    int64_t now, int64_t *wait, struct err *e)
{
	*wait = 0;
	for (int kind = 0; kind < THROTTLE_KINDS; kind++) {
		int64_t until;

		if (store_throttle_get(s, k->k[kind], &until, e) == -1)
			return -1;
		if (until - now > *wait)
			*wait = until - now;
	}
	return 0;
}

int
shared_throttle_failure(struct store *s, const struct shared_throttle_keys *k,
    const struct throttle *policies, int64_t now, struct err *e)
{
	for (int kind = 0; kind < THROTTLE_KINDS; kind++) {
		const struct throttle_policy *p =
		    throttle_policy(policies, (enum throttle_kind)kind);
		int64_t failures, d;

		if (store_throttle_fail(
		        s, k->k[kind], now, p->window, &failures, e) == -1)
			return -1;
		if ((d = throttle_delay(p, failures)) > 0 &&
		    store_throttle_block(s, k->k[kind], now + d, e) == -1)
			return -1;
	}
	return 0;
}

int
shared_throttle_success(
    struct store *s, const struct shared_throttle_keys *k, struct err *e)
{
	return store_throttle_clear(s, k->k[THROTTLE_USER], e);
}
