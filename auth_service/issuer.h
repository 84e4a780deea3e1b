/* issuer: what the service hands out: access tokens (RFC 9068 JWTs signed
 * with the current key) and opaque refresh tokens (256 random bits,
 * stored only as a hash), and the token response of RFC 6749 5.1. */
#ifndef AUTH_ISSUER_H
#define AUTH_ISSUER_H

#include <json-c/json.h>
#include <stdint.h>

#include "jwk.h"
#include "permissions.h"
#include "store.h"

#define ISSUER_REFRESH_BYTES 32
#define ISSUER_REFRESH_LEN 43 /* base64url of 32 bytes */
#define ISSUER_JTI_BYTES 16

struct issuer {
	const struct jws_key *key; /* signs; borrowed */
	const char *issuer;
	const char *audience;
	const char *client_id;
	int64_t access_ttl;
};

/* Claims iss, aud, sub, client_id, iat, nbf, exp, jti, username, roles,
 * permissions (resolved from the user's roles now) and scope, signed with
 * typ "at+jwt" (RFC 9068 2.1). *token is the caller's to free. */
int issuer_access_token(const struct issuer *is, const struct store_user *u,
    const struct permissions *perms, int64_t now, char **token,
    char jti[ISSUER_JTI_BYTES * 2], struct err *e);

/* A new refresh token and the hash under which it is stored. */
int issuer_refresh_token(char token[ISSUER_REFRESH_LEN + 1],
    unsigned char hash[STORE_HASH_LEN], struct err *e);

/* {"access_token","refresh_token","token_type":"Bearer","expires_in"}. */
struct json_object *issuer_token_reply(
    const char *access_token, const char *refresh_token, int64_t expires_in);

#endif
