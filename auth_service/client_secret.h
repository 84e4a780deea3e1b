/* client_secret: OAuth client secrets. A secret is 256 random bits
 * (base64url, 43 characters), shown once and stored only as a hash. The
 * hash is BLAKE2b-256, not argon2id: a slow hash protects low-entropy
 * memorized secrets (NIST SP 800-63B 5.1.1.2), and nothing can be
 * guessed of 256 random bits, so every token request would pay for a
 * slow hash that buys nothing. */
#ifndef AUTH_CLIENT_SECRET_H
#define AUTH_CLIENT_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define CLIENT_SECRET_BYTES 32
#define CLIENT_SECRET_LEN 43 /* base64url of 32 bytes, no padding */
#define CLIENT_SECRET_HASH_PREFIX "blake2b256$"
/* The prefix and 64 hex digits. */
#define CLIENT_SECRET_HASH_LEN (sizeof(CLIENT_SECRET_HASH_PREFIX) - 1 + 64)

/* A new secret into out (NUL-terminated). */
void client_secret_new(char out[CLIENT_SECRET_LEN + 1]);

/* The stored form of secret. */
void client_secret_hash(
    const char *secret, size_t len, char out[CLIENT_SECRET_HASH_LEN + 1]);

/* Whether secret hashes to stored, compared in constant time. stored
 * NULL (an unknown client) is checked against a fixed hash of the same
 * length, so both cost the same and both answer false. */
bool client_secret_verify(const char *stored, const char *secret, size_t len);

#endif
