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
#define SESSION_REQUEST_ID_MAX 65

/* Who asks: the client's address (the throttle's key) and the request's
 * id (X-Request-Id), both written into every audit line of the request. */
struct session_caller {
	char addr[SESSION_ADDR_MAX];
	char request_id[SESSION_REQUEST_ID_MAX];
};

/* What a successful login or refresh hands the client. */
struct token_pair {
	char *access_token;
	char refresh_token[REFRESH_TOKEN_LEN + 1];
	int64_t expires_in; /* the access token's lifetime, as its exp says */
};

/* The RFC 6749 5.1 response body; NULL out of memory. */
struct json_object *token_pair_to_json(const struct token_pair *p);
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
int session_login(struct auth_ctx *ctx, const char *name, size_t name_len,
    const char *password, size_t password_len,
    const struct session_caller *client, session_done done, void *arg,
    struct session_refusal *r);

/* POST /refresh: single-use rotation; a reused token revokes its family
 * (RFC 9700 4.14.2). The new access token carries the user's roles and
 * permissions of now. */
int session_refresh(struct auth_ctx *ctx, const char *token, size_t len,
    const struct session_caller *client, session_done done, void *arg,
    struct session_refusal *r);

/* POST /logout: revokes the token's family. An unknown token is not an
 * error (RFC 7009 2.2): the answer must not tell which tokens exist, so
 * it ends as a success too. */
int session_logout(struct auth_ctx *ctx, const char *token, size_t len,
    const struct session_caller *client, session_done done, void *arg,
    struct session_refusal *r);

#endif
