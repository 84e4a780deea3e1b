/* refresh_token: the opaque refresh token, a MAC'd pointer into its
 * family. A token is base64url of
 *     version (1 byte) | family id (16) | generation (8, big endian) |
 *     tag (32) = HMAC-SHA-256(refresh key, the 25 bytes before it)
 * 76 characters, 256 bits of tag. The store keeps per family only the
 * generation of its one live token, so what is stored per login never
 * grows with refreshes, no token (nor anything a token can be made from)
 * is stored, and a rotated token is recognised forever: an older
 * generation of a known family is a reuse (RFC 9700 4.14.2). Forging a
 * token needs the refresh key, which lives beside the signing key. */
#ifndef AUTH_REFRESH_TOKEN_H
#define AUTH_REFRESH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

#define REFRESH_TOKEN_LEN 76 /* base64url of 57 bytes */
#define REFRESH_KEY_LEN 32

struct refresh_key {
	unsigned char k[REFRESH_KEY_LEN];
};

/* Reads the 32-byte key file at path; with create, a missing file is made
 * (random key, mode 0600, never overwriting one that appears meanwhile).
 * Every issuer sharing a database must share this file. ERR_CONFIG. */
int refresh_key_load(
    const char *path, bool create, struct refresh_key *out, struct err *e);

/* A new random family id (128 bits, base64url). */
void refresh_family_new(char family_id[STORE_FAMILY_ID_LEN + 1]);

/* The token for generation of family_id; -1 only for a malformed id. */
int refresh_token_make(const struct refresh_key *k, const char *family_id,
    uint64_t generation, char out[REFRESH_TOKEN_LEN + 1]);

/* The family and generation a token names, if its tag is this key's
 * (compared in constant time); -1 for anything else, which the caller
 * treats as an unknown token. */
int refresh_token_open(const struct refresh_key *k, const char *token,
    size_t len, char family_id[STORE_FAMILY_ID_LEN + 1], uint64_t *generation);

#endif
