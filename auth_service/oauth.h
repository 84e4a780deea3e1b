/* oauth: the use cases behind the OAuth 2.0 endpoints that are not a
 * grant (grants are session.c's): client authentication (RFC 6749
 * 2.3.1), revocation (RFC 7009) and introspection (RFC 7662). HTTP stays
 * in oauth_routes.c; stored data is reached through the store pool. */
#ifndef AUTH_OAUTH_H
#define AUTH_OAUTH_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "service.h"
#include "session.h"

/* Who the client says it is. */
struct oauth_credentials {
	char client_id[STORE_MAX_CLIENT_ID + 1];
	size_t client_id_len;
	char *secret; /* NULL: none sent (a public client) */
	size_t secret_len;
	bool basic; /* sent as HTTP Basic (client_secret_basic) */
};

/* Wipes and frees the secret. */
void oauth_credentials_clear(struct oauth_credentials *c);

/* Called once on the loop: the authenticated client (the callee's, to
 * store_client_free), or NULL and why. */
typedef void (*oauth_client_done)(
    struct store_client *client, const struct session_refusal *r, void *arg);

/* Finds the client and checks its secret (constant time; an unknown
 * client costs what a wrong secret costs, client_secret.h). A client
 * with a secret must send it; a public client must not send one; with
 * confidential_only a public client is refused too. Every failure is
 * ERR_INVALID_CLIENT. -1: refused at once (done never called). */
int oauth_authenticate(struct auth_ctx *ctx,
    const struct oauth_credentials *cred, bool confidential_only,
    const char *addr, oauth_client_done done, void *arg,
    struct session_refusal *r);

/* Called once on the loop when a revocation or introspection ends: r
 * NULL on success (reply: the introspection answer, the callee's; NULL
 * for a revocation). */
typedef void (*oauth_done)(
    struct json_object *reply, const struct session_refusal *r, void *arg);

/* RFC 7009 2.1: a refresh token of this client revokes its family; one
 * of another client is ERR_UNAUTHORIZED_CLIENT (nothing revoked); an
 * access token that is still valid is ERR_UNSUPPORTED_TOKEN_TYPE (access
 * tokens are self-contained: they stay valid until they expire, as every
 * verifier decides alone); anything else succeeds and changes nothing
 * (RFC 7009 2.2). */
int oauth_revoke(struct auth_ctx *ctx, const struct store_client *client,
    const char *token, size_t len, const char *addr, oauth_done done, void *arg,
    struct session_refusal *r);

/* RFC 7662 2.2: an access token the resource service would accept
 * (verify.c, the same policy) or a live refresh token of this client is
 * active, with its claims; anything else is only {"active":false}. */
int oauth_introspect(struct auth_ctx *ctx, const struct store_client *client,
    const char *token, size_t len, oauth_done done, void *arg,
    struct session_refusal *r);

#endif
