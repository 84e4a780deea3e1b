/* guard: bearer -> verify (or cache) -> permission -> decision. Every
 * check of the token itself happens in verify_access_token(); the guard
 * adds only what a resource server decides: which permission a route
 * needs (RFC 6750 3.1 insufficient_scope). */
#include "guard.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http_util.h"
#include "token_cache.h"

struct guard {
	struct verify_policy policy; /* keys: the current set, owned */
	struct jwks *keys;
	struct token_cache *cache;
};

struct guard *
guard_new(const struct guard_config *cfg, struct err *e)
{
	struct guard *g = calloc(1, sizeof(*g));

	if (g == NULL ||
	    (g->cache = token_cache_new(cfg->cache_entries)) == NULL) {
		free(g);
		err_set(e, ERR_NOMEM, "guard with %zu cache entries",
		    cfg->cache_entries);
		return NULL;
	}
	g->policy = (struct verify_policy){ .keys = NULL,
		.issuer = cfg->issuer,
		.audience = cfg->audience,
		.leeway = cfg->leeway,
		.now = cfg->now,
		.now_arg = cfg->now_arg };
	return g;
}

void
guard_free(struct guard *g)
{
	if (g == NULL)
		return;
	token_cache_free(g->cache);
	jwks_free(g->keys);
	free(g);
}

void
guard_set_keys(struct guard *g, struct jwks *keys)
{
	if (keys == g->keys) {
		jwks_free(keys); /* the same set again: drop the extra ref */
		return;
	}
	token_cache_clear(g->cache);
	jwks_free(g->keys);
	g->keys = keys;
	g->policy.keys = keys;
}

size_t
guard_key_count(const struct guard *g)
{
	return g->keys != NULL ? g->keys->n : 0;
}

void
guard_sweep(struct guard *g)
{
	token_cache_sweep(g->cache, verify_now(&g->policy));
}

void
guard_result_release(struct guard_result *r)
{
	access_token_free(r->owned);
	*r = (struct guard_result){ 0 };
}

static int
verified_token(struct guard *g, const char *token, size_t len,
    struct guard_result *r, struct err *e)
{
	struct access_token *t = NULL;
	int64_t now;

	if (g->keys == NULL)
		return err_set(e, ERR_UNAVAILABLE, "no verification keys yet");
	now = verify_now(&g->policy);
	if ((r->token = token_cache_get(g->cache, token, len, now)) != NULL) {
		r->cache_hit = true;
		return 0;
	}
	/* ERR_TOKEN_KID: a key the issuer may have just published (RFC
	 * 7517 5); routes.c holds such a request for a refetch. */
	if (verify_access_token(token, len, &g->policy, &t, e) == -1)
		return -1;
	if (!token_cache_put(g->cache, token, len, t, now))
		r->owned = t;
	r->token = t;
	return 0;
}

/* All of the need's permissions, or any one (RFC 6750 3.1
 * insufficient_scope otherwise). */
static int
check_need(
    const struct access_token *t, const struct guard_need *need, struct err *e)
{
	size_t held = 0;

	for (size_t i = 0; i < need->n; i++)
		if (access_token_has_permission(
		        t, need->perms[i], need->lens[i]))
			held++;
	if (need->mode == GUARD_ANY_OF ? held > 0 : held == need->n)
		return 0;
	return err_set(e, ERR_INSUFFICIENT_SCOPE,
	    "token lacks %s of %zu permission(s), first %.64s",
	    need->mode == GUARD_ANY_OF ? "any" : "some", need->n,
	    need->n > 0 ? need->perms[0] : "");
}

int
guard_check_token(struct guard *g, const char *token, size_t len,
    const char *perm, size_t perm_len, struct guard_result *r, struct err *e)
{
	char *perms[1] = { (char *)perm };
	size_t lens[1] = { perm_len };
	struct guard_need need = { GUARD_ALL_OF, perms, lens, 1 };

	*r = (struct guard_result){ 0 };
	if (verified_token(g, token, len, r, e) == -1)
		return -1;
	return check_need(r->token, &need, e);
}

/* Does the request target's query carry an access_token parameter (RFC
 * 6750 2.3)? Names are compared as sent: the form is only ever detected
 * here, never used. */
static bool
query_has_token(const char *uri)
{
	static const char name[] = "access_token";
	const char *p;

	if (uri == NULL || (p = strchr(uri, '?')) == NULL)
		return false;
	while (*p == '?' || *p == '&' || *p == ';') {
		size_t n;

		p++;
		n = strcspn(p, "=&;#");
		if (n == sizeof(name) - 1 && memcmp(p, name, n) == 0)
			return true;
		p += strcspn(p, "&;#");
	}
	return false;
}

int
guard_decide(struct guard *g, struct evhttp_request *req, const char *target,
    const struct guard_need *need, struct guard_result *r, struct err *e)
{
	const char *token;
	size_t len;

	*r = (struct guard_result){ 0 };
	if (need->mode == GUARD_PUBLIC)
		return 0;
	if (http_bearer_token(req, &token, &len, e) == -1)
		return -1;
	/* Only the header method (RFC 6750 2.1) is supported. A token in the
	 * query as well is "more than one method", invalid_request (RFC 6750
	 * 3.1): refused rather than silently ignored. */
	if (query_has_token(target))
		return err_set(e, ERR_BEARER_MALFORMED,
		    "access_token in the query and in the header");
	if (verified_token(g, token, len, r, e) == -1)
		return -1;
	return check_need(r->token, need, e);
}

int
guard_check_request(struct guard *g, struct evhttp_request *req,
    const char *perm, size_t perm_len, struct guard_result *r, struct err *e)
{
	char *perms[1] = { (char *)perm };
	size_t lens[1] = { perm_len };
	struct guard_need need = { GUARD_ALL_OF, perms, lens, 1 };

	return guard_decide(g, req, evhttp_request_get_uri(req), &need, r, e);
}

void
guard_cache_stats(const struct guard *g, struct token_cache_stats *out)
{
	token_cache_get_stats(g->cache, out);
}
