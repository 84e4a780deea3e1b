/* verify: the one verification policy of the pair. Token + policy ->
 * verified access token, or an error code that http_util maps to the
 * RFC 6750 answer. Nothing else in the project checks a token. */
#ifndef JWT_VERIFY_H
#define JWT_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "claims.h"
#include "jwks.h"

struct verify_policy {
	const struct jwks *keys;
	const char *issuer;
	const char *audience;
	int64_t leeway;
	/* Seconds since the epoch; NULL means the system clock. */
	int64_t (*now)(void *arg);
	void *now_arg;
};

struct verify_str {
	char *s; /* NUL-terminated copy; len is authoritative */
	size_t len;
};

struct access_token {
	struct verify_str sub, username, jti, client_id, kid;
	struct verify_str *roles;
	size_t n_roles;
	struct verify_str *permissions;
	size_t n_permissions;
	int64_t exp, nbf, iat;
};

/* Full verification: JWS (jws_verify), typ, claims (claims_check), then
 * the RFC 9068 2.2 claims: iat, sub, jti and client_id
 * (non-empty strings), permissions (array of strings, may be empty), and
 * roles (array of strings) and username (string), both optional. *out is
 * the caller's (access_token_free). */
int verify_access_token(const char *token, size_t len,
    const struct verify_policy *p, struct access_token **out, struct err *e);

void access_token_free(struct access_token *t);

/* Exact, length-aware: "read:data" never matches "read:data\0x" or
 * "read:dat". */
bool access_token_has_permission(
    const struct access_token *t, const char *perm, size_t len);

/* Time now per the policy's clock. */
int64_t verify_now(const struct verify_policy *p);

#endif
