/* jws: JWS compact serialization (RFC 7515 section 7.1) sign and verify.
 * The algorithm is a property of the key (RFC 8725 section 3.1): the header
 * "alg" must name the key's algorithm exactly, and "none", HMAC and every
 * other value are refused. Headers that would let a token choose its own
 * key or change processing (crit, jku, x5u, jwk, x5c, b64, zip) are
 * refused. */
#ifndef JWT_JWS_H
#define JWT_JWS_H

#include <json-c/json.h>
#include <stddef.h>

#include "jose_reader.h"
#include "jwks.h"
#include "jws_key.h"

#define JWT_MAX_TOKEN_LEN 8192
#define JWT_MAX_HEADER_LEN 1024 /* decoded header bytes */

/* Signs payload (a JSON object) with key, header
 * {"alg":<key's alg>,"typ":typ,"kid":key->kid}. *out is a malloc'd
 * NUL-terminated compact token. ES256 signatures are raw r||s, 64 bytes
 * (RFC 7518 section 3.4). */
int jws_sign(const struct jws_key *key, const char *typ,
    struct json_object *payload, char **out, struct err *e);

/* Verifies token[0..len) against the set: the key is chosen by "kid" (or,
 * with no kid, the set's only key), then the signature is checked with the
 * key's own algorithm. On success *header and *payload are the parsed JSON
 * objects (caller puts them) and *key is the borrowed verifying key.
 * Errors: ERR_TOKEN_MALFORMED, ERR_TOKEN_ALG, ERR_TOKEN_HEADER,
 * ERR_TOKEN_KID, ERR_TOKEN_SIGNATURE, ERR_NOMEM. */
int jws_verify(const char *token, size_t len, const struct jwks *set,
    struct json_object **header, struct json_object **payload,
    const struct jws_key **key, struct err *e);

/* The decoded parts of a token, in the caller's memory (on its stack):
 * the read header and claims point into header and payload. */
struct jws_decoded {
	char header[JWT_MAX_HEADER_LEN];
	char payload[JWT_MAX_TOKEN_LEN / 4 * 3];
	unsigned char sig[JWT_MAX_TOKEN_LEN / 4 * 3];
	struct jose_header h;
	struct jose_claims claims;
};

/* jws_verify without allocating: the same checks in the same order with
 * the same errors, the header and the payload read by jose_reader instead
 * of json-c. On success d->h and d->claims hold the token's members and
 * *key is the borrowed verifying key. */
int jws_verify_read(const char *token, size_t len, const struct jwks *set,
    struct jws_decoded *d, const struct jws_key **key, struct err *e);

/* Raw signature primitives, exposed for tests and benchmarks. */
int jws_sign_raw(const struct jws_key *key, const unsigned char *msg,
    size_t msglen, unsigned char **sig, size_t *siglen, struct err *e);
int jws_verify_raw(const struct jws_key *key, const unsigned char *msg,
    size_t msglen, const unsigned char *sig, size_t siglen, struct err *e);

#endif
