/* session: the issuer's use cases, one function each: log in, refresh,
 * log out. Input is what the request said (credentials or a refresh
 * token, and the client's address); output is a token pair or a refusal.
 * HTTP stays in routes.c, stored data behind store.h (reached through the
 * store pool, so the event loop never waits on the database), token
 * contents in issuer.c and refresh_token.c; each use case writes its own
 * audit line. */
#ifndef AUTH_SESSION_H
#define AUTH_SESSION_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "refresh_token.h"
#include "service.h"

#define SESSION_ADDR_MAX 64 /* a client address as text */

/* What a successful login or refresh hands the client. */
struct token_pair {
	char *access_token;
	char refresh_token[REFRESH_TOKEN_LEN + 1]; /* "" for none */
	int64_t expires_in; /* the access token's lifetime, as its exp says */
	char *scope;        /* the scope the access token carries */
};

/* The JSON /login and /refresh body; NULL out of memory. */
struct json_object *token_pair_to_json(const struct token_pair *p);
/* The RFC 6749 5.1 body of POST /token: with scope, and without
 * refresh_token when there is none (client_credentials, RFC 6749
 * 4.4.3). */
struct json_object *token_pair_to_oauth_json(const struct token_pair *p);

/* The client a grant is for (RFC 6749 2), and what it asks. The JSON
 * routes pass NULL: the configured client_id, access_ttl and everything
 * the user holds. */
struct session_client {
	const char *client_id;
	int64_t access_ttl; /* 0: the configured access_ttl */
	const char *scope;  /* RFC 6749 3.3; NULL: none asked */
};
/* Frees and wipes; the pair can be reused. */
void token_pair_wipe(struct token_pair *p);

/* How a use case ended when it did not succeed: e.code is the error
 * (common/http_util.c maps it to a status); retry_after > 0 asks the
 * client to wait that many seconds (429 throttled, 503 unavailable). */
struct session_refusal {
	struct err e;
	int64_t retry_after;
};

/* Called once, on the loop, when a use case that returned 0 ends: on
 * success r is NULL (and pair, for login and refresh, the tokens); on
 * failure pair is NULL and r says why. */
typedef void (*session_done)(
    const struct token_pair *pair, const struct session_refusal *r, void *arg);

/* Each returns -1 when refused at once (r filled, done never called), 0
 * when done will be called. */

/* POST /login: throttle check, user lookup, argon2id on a worker (an
 * unknown user is checked against a dummy hash of the same cost, so both
 * failures cost and answer the same), then a new family and its tokens. */
int session_login(struct auth_ctx *ctx, const struct session_client *c,
    const char *name, size_t name_len, const char *password,
    size_t password_len, const char *addr, session_done done, void *arg,
    struct session_refusal *r);

/* POST /refresh: single-use rotation; a reused token revokes its family
 * (RFC 9700 4.14.2). The new access token carries the user's roles and
 * permissions of now, within the scope the family was granted. A family
 * of another client is invalid_grant and stays as it was (RFC 6749 6).
 * Scope is checked when signing, after the rotation committed: a refresh
 * asking for more than is held is invalid_scope and uses the token up. */
int session_refresh(struct auth_ctx *ctx, const struct session_client *c,
    const char *token, size_t len, const char *addr, session_done done,
    void *arg, struct session_refusal *r);

/* POST /token grant_type=client_credentials (RFC 6749 4.4): a token whose
 * sub and client_id are the client, with the permissions of the client's
 * own roles (re-read now), no username and no refresh token. */
int session_client_credentials(struct auth_ctx *ctx,
    const struct store_client *client, const char *scope, const char *addr,
    session_done done, void *arg, struct session_refusal *r);

/* POST /logout: revokes the token's family. An unknown token is not an
 * error (RFC 7009 2.2): the answer must not tell which tokens exist, so
 * it ends as a success too. */
int session_logout(struct auth_ctx *ctx, const char *token, size_t len,
    const char *addr, session_done done, void *arg, struct session_refusal *r);

#endif
