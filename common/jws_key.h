/* jws_key: the key type every JOSE module shares: a key, the one JWS
 * algorithm it implies (RFC 8725 3.1: the algorithm comes from the key,
 * never from a token), its kid, and the signing contexts prepared once.
 * jwk.c makes keys, jwks.c keeps sets of them, jws.c uses them. */
#ifndef JWT_JWS_KEY_H
#define JWT_JWS_KEY_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

enum jws_alg {
	JWS_ALG_UNKNOWN = 0,
	JWS_ALG_RS256,
	JWS_ALG_ES256,
	JWS_ALG_EDDSA
};

#define JWK_KID_MAX 64 /* base64url SHA-256 is 43 chars */

struct jws_key {
	EVP_PKEY *pkey;
	enum jws_alg alg;
	bool has_private;
	char kid[JWK_KID_MAX + 1];
	/* RS256 and ES256: contexts set up once (jws_key_prepare), never
	 * used themselves, only duplicated per operation, so threads share
	 * them read-only. NULL for EdDSA; sign_template NULL without a
	 * private key. */
	EVP_PKEY_CTX *verify_template;
	EVP_PKEY_CTX *sign_template;
};

/* "RS256", "ES256", "EdDSA"; NULL for unknown. */
const char *jws_alg_name(enum jws_alg alg);
/* Parses "RS256" / "ES256" / "EdDSA" (exact, case-sensitive). */
enum jws_alg jws_alg_from_name(const char *name, size_t len);

/* Called once when a key is made (jwk_from_pkey, after has_private is
 * set): for RS256 and ES256, sets up key->verify_template and, with a
 * private key, key->sign_template, so that each operation skips the
 * provider fetch and init. Nothing to do for EdDSA. ERR_INTERNAL. */
int jws_key_prepare(struct jws_key *key, struct err *e);

/* SHA-256, fetched once for the process (NULL if the provider has none). */
const EVP_MD *jws_key_sha256(void);

#endif
