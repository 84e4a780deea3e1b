/* guard: the access decision for one protected request. Bearer credentials
 * (RFC 6750 2.1) -> verified access token (verify.c, the one verification
 * policy, or the worker's token cache) -> the route's permission. One
 * guard per worker: it holds that worker's key set and cache, no lock. */
#ifndef RESOURCE_GUARD_H
#define RESOURCE_GUARD_H

#include <event2/http.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "jwks.h"
#include "verify.h"

struct guard_config {
	const char *issuer;   /* borrowed; outlives the guard */
	const char *audience; /* borrowed; outlives the guard */
	int64_t leeway;
	size_t cache_entries; /* 0: every request is verified in full */
	/* The clock (seconds since the epoch); NULL: the system clock. */
	int64_t (*now)(void *arg);
	void *now_arg;
};

/* What a route requires (routes.json): no token at all, every one of its
 * permissions, or any one of them. */
enum guard_mode {
	GUARD_ALL_OF = 0,
	GUARD_ANY_OF,
	GUARD_PUBLIC,
};

struct guard_need {
	enum guard_mode mode;
	char **perms; /* n scope tokens (RFC 6749 3.3); none when public */
	size_t *lens;
	size_t n;
};

/* The outcome for a request that presented a token which verified. */
struct guard_result {
	const struct access_token *token; /* NULL unless verified */
	struct access_token *owned; /* set when the cache did not take it */
	bool cache_hit;
};

struct guard *guard_new(const struct guard_config *cfg, struct err *e);
void guard_free(struct guard *g);

/* Installs a new key set, taking the caller's reference (NULL: no keys;
 * every check then fails with ERR_UNAVAILABLE). A different set empties
 * the token cache: no verdict reached under old keys survives a change. */
void guard_set_keys(struct guard *g, struct jwks *keys);
/* Number of keys in the current set (0: none, not ready). */
size_t guard_key_count(const struct guard *g);

/* Drops cached tokens whose exp has passed (run from a timer). */
void guard_sweep(struct guard *g);

/* Decides for a token and a required permission. 0: allowed, r->token is
 * the verified token. -1 with e->code: ERR_TOKEN_* (401), ERR_UNAVAILABLE
 * (no key set yet), or ERR_INSUFFICIENT_SCOPE (403; r->token is still set,
 * the token itself was valid). Release r with guard_result_release. */
int guard_check_token(struct guard *g, const char *token, size_t len,
    const char *perm, size_t perm_len, struct guard_result *r, struct err *e);

/* The same, reading the token from the request's Authorization header:
 * no or non-Bearer header ERR_TOKEN_MISSING, a repeated or malformed one
 * ERR_BEARER_MALFORMED (http_bearer_token), and ERR_BEARER_MALFORMED too
 * when the query carries an access_token as well (RFC 6750 3.1). */
int guard_check_request(struct guard *g, struct evhttp_request *req,
    const char *perm, size_t perm_len, struct guard_result *r, struct err *e);

/* The decision of every route, direct or forward-auth: a public need is
 * allowed without looking at any credential (r->token stays NULL);
 * otherwise the Authorization header of req, as guard_check_request, with
 * the access_token query check made on target (the request-target the
 * decision is for: req's own, or the one a proxy forwarded), then the
 * need's permissions. */
int guard_decide(struct guard *g, struct evhttp_request *req,
    const char *target, const struct guard_need *need, struct guard_result *r,
    struct err *e);

void guard_result_release(struct guard_result *r);

/* The token cache's counters, for tests and /health. */
struct token_cache_stats;
void guard_cache_stats(const struct guard *g, struct token_cache_stats *out);

#endif
