/* jwks: a JWK Set (RFC 7517 section 5): several keys published at once so
 * a rotation never breaks a live token. Reference counted: a reader takes a
 * reference with jwks_retain() and drops it with jwks_free(), so a worker
 * can keep using a set that the key source has just replaced. */
#ifndef JWT_JWKS_H
#define JWT_JWKS_H

#include <stddef.h>

#include "jwk.h"

/* The most keys a JWKS may hold, read (jwks_from_json) or published by the
 * issuer. Rotation keeps a handful; the bound stops a hostile document from
 * costing a key validation (an EC point multiplication) per entry without
 * end. */
#define JWKS_MAX_KEYS 64

struct jwks {
	struct jws_key **keys;
	size_t n;
	size_t cap;
	int refs; /* atomic; starts at 1 */
};

struct jwks *jwks_new(void);
/* Takes ownership of k. A kid already present is ERR_KEY. */
int jwks_add(struct jwks *set, struct jws_key *k, struct err *e);
struct jwks *jwks_retain(struct jwks *set);
/* Drops one reference; frees the set and its keys at zero. NULL is fine. */
void jwks_free(struct jwks *set);

/* Borrowed; NULL when no key has this kid (compared with its length). */
const struct jws_key *jwks_find(
    const struct jwks *set, const char *kid, size_t kidlen);

/* {"keys":[...]} with public members only. */
struct json_object *jwks_to_json(const struct jwks *set);

/* Parses a JWKS document (strict JSON). Keys this library cannot use
 * (other kty, curve, "use":"enc", an "alg" not the key's, short RSA) are
 * skipped and logged at debug level. A kid shared by different keys is
 * ambiguous: all of them are skipped (logged at warn); the same key twice
 * is kept once. A document with no usable key is ERR_KEY. */
struct jwks *jwks_from_json_text(const char *buf, size_t len, struct err *e);

#endif
