/* issuer: the one issuing policy. What the service hands out: access
 * tokens (RFC 9068 JWTs signed with the current key), whose claims are
 * built here and only here, for the daemon and `jwt-admin token mint`
 * alike, and the token response of RFC 6749 5.1 (the refresh token in it
 * comes from refresh_token.h). */
#ifndef AUTH_ISSUER_H
#define AUTH_ISSUER_H

#include <json-c/json.h>
#include <stdint.h>

#include "jwk.h"
#include "permissions.h"
#include "store.h"

#define ISSUER_JTI_BYTES 16

struct issuer {
	const struct jws_key *key; /* signs; borrowed */
	const char *issuer;
	const char *audience;
	const char *client_id;
	int64_t access_ttl;
};

/* Whom an access token speaks for. */
struct issuer_subject {
	const char *sub;
	const char *username;
	char *const *roles;
	size_t n_roles;
};

/* The claims of an access token (RFC 9068 2.2): iss, aud, sub, client_id,
 * iat, nbf, exp (now + ttl), jti (128 random bits), username, roles,
 * permissions (resolved from the roles in perms, now) and scope (the
 * permissions that are scope-tokens, space-separated: RFC 9068 2.2.3).
 * perms NULL grants nothing. NULL on failure, with e set. */
struct json_object *issuer_claims(const struct issuer *is,
    const struct issuer_subject *s, const struct permissions *perms,
    int64_t now, int64_t ttl, struct err *e);

/* An access token for a stored user, valid for is->access_ttl from now,
 * signed with typ "at+jwt" (RFC 9068 2.1). *token is the caller's to
 * free; *expires_in is the lifetime its exp says. */
int issuer_access_token(const struct issuer *is, const struct store_user *u,
    const struct permissions *perms, int64_t now, char **token,
    int64_t *expires_in, struct err *e);

/* {"access_token","refresh_token","token_type":"Bearer","expires_in"}. */
struct json_object *issuer_token_reply(
    const char *access_token, const char *refresh_token, int64_t expires_in);

#endif
