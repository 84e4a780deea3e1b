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

/* Whom an access token speaks for, and for which client. */
struct issuer_subject {
	const char *sub;
	const char *username; /* NULL: no username claim (a client itself) */
	char *const *roles;
	size_t n_roles;
	const char *client_id; /* NULL: is->client_id */
	/* The scope of the grant (a family's, RFC 6749 6): permissions
	 * outside it are left out, silently. NULL or "": no limit. */
	const char *within;
	/* The scope this request asks for (RFC 6749 3.3): every token must
	 * be held (else ERR_INVALID_SCOPE) and only those are granted.
	 * NULL: everything held. */
	const char *scope;
};

/* The claims of an access token (RFC 9068 2.2): iss, aud, sub, client_id,
 * iat, nbf, exp (now + ttl), jti (128 random bits), username, roles,
 * permissions (resolved from the roles in perms, now) and scope (the
 * permissions that are scope-tokens, space-separated: RFC 9068 2.2.3).
 * perms NULL grants nothing. NULL on failure, with e set. */
struct json_object *issuer_claims(const struct issuer *is,
    const struct issuer_subject *s, const struct permissions *perms,
    int64_t now, int64_t ttl, struct err *e);

/* The scope an access token for s would carry now (the "scope" claim of
 * issuer_claims), malloc'd; NULL on failure, with e set. */
char *issuer_scope(const struct issuer_subject *s,
    const struct permissions *perms, struct err *e);

/* An access token for s, valid for ttl (0: is->access_ttl) from now,
 * signed with typ "at+jwt" (RFC 9068 2.1). *token is the caller's to
 * free; *expires_in is the lifetime its exp says; *scope (if scope is
 * not NULL) the scope it carries, the caller's. */
int issuer_access_token(const struct issuer *is, const struct issuer_subject *s,
    const struct permissions *perms, int64_t now, int64_t ttl, char **token,
    char **scope, int64_t *expires_in, struct err *e);

/* {"access_token","refresh_token","token_type":"Bearer","expires_in"}
 * (RFC 6749 5.1); refresh_token left out when NULL or "", and "scope"
 * added when scope is not NULL. */
struct json_object *issuer_token_reply(const char *access_token,
    const char *refresh_token, int64_t expires_in, const char *scope);

#endif
