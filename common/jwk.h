/* jwk: one signing/verification key. PEM in and out, JWK in and out (public
 * members only), kid = RFC 7638 JWK thumbprint. The JWS algorithm is a
 * property of the key: RSA >= 2048 -> RS256, P-256 -> ES256,
 * Ed25519 -> EdDSA. Any other key is refused. */
#ifndef JWT_JWK_H
#define JWT_JWK_H

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdbool.h>

#include "err.h"
#include "jws_key.h"

#define JWK_RSA_MIN_BITS 2048
/* RFC 7518 section 3.3 sets only the minimum; the maximum bounds what one
 * token can cost a verifier. */
#define JWK_RSA_MAX_BITS 8192

/* Takes ownership of pkey (freed on failure too). Decides alg, checks the
 * key is acceptable (ERR_KEY otherwise) and sets kid to the thumbprint. */
struct jws_key *jwk_from_pkey(EVP_PKEY *pkey, struct err *e);

/* PEM files: private PKCS#8 (a traditional PEM private key is accepted too),
 * public SPKI. Errors name the path. */
struct jws_key *jwk_load_private_pem(const char *path, struct err *e);
struct jws_key *jwk_load_public_pem(const char *path, struct err *e);
/* A public key from PEM text in memory. */
struct jws_key *jwk_public_from_pem(const char *pem, size_t len, struct err *e);

/* Creates a new key pair: bits used for RS256 only (>= 2048). */
struct jws_key *jwk_generate(enum jws_alg alg, int bits, struct err *e);

/* Writes PEM files. The private key is written PKCS#8, mode 0600, created
 * with O_EXCL unless overwrite is true (then replaced atomically via a
 * temporary file and rename). */
int jwk_save_private_pem(
    const struct jws_key *k, const char *path, bool overwrite, struct err *e);
int jwk_save_public_pem(
    const struct jws_key *k, const char *path, bool overwrite, struct err *e);

/* Public JWK: kty and the public members of RFC 7518 section 6 / RFC 8037,
 * plus "kid", "alg" and "use":"sig". Never a private member. */
struct json_object *jwk_to_json(const struct jws_key *k);

/* A public key from a JWK object (as found in a JWKS). "use" other than
 * "sig", or an "alg" that differs from the key's, is ERR_KEY. If the JWK has
 * a "kid" it is kept as given (issuers choose kids); otherwise the
 * thumbprint is used. Private members are ignored. */
struct jws_key *jwk_from_json(struct json_object *jwk, struct err *e);

/* RFC 7638 thumbprint (SHA-256, base64url) of the public key. */
int jwk_thumbprint(EVP_PKEY *pkey, char out[JWK_KID_MAX + 1], struct err *e);

/* Frees the key; NULL does nothing. */
void jwk_free(struct jws_key *k);

#endif
