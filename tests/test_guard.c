/* test_guard: the access decision of the resource service on real signed
 * tokens: verify (through verify.c), the token cache, the permission
 * check, key changes, and the Authorization header. Every rejection sits
 * next to a positive control. The clock is injected. */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <string.h>

#include "guard.h"
#include "jwk.h"
#include "jws.h"
#include "secret.h"
#include "test.h"
#include "token_cache.h"

#define ISS "http://127.0.0.1:5000"
#define AUD "resource_service"
#define T0 1700000000

static int64_t fake_now = T0;

static int64_t
clock_now(void *arg)
{
	(void)arg;
	return fake_now;
}

static struct jws_key *key_a, *key_b;

static struct jwks *
set_of(struct jws_key *k)
{
	struct jwks *set = jwks_new();
	struct jws_key *copy;
	struct err e = { 0 };

	/* A set owns its keys: give it its own copy of the public key. */
	if (set == NULL || EVP_PKEY_up_ref(k->pkey) != 1)
		abort();
	if ((copy = jwk_from_pkey(k->pkey, &e)) == NULL ||
	    jwks_add(set, copy, &e) == -1)
		abort();
	return set;
}

struct claims_opt {
	const char *iss, *aud, *sub;
	int64_t iat, nbf, exp;
	const char *perms[4];
};

static char *
sign(const struct jws_key *k, const struct claims_opt *o)
{
	struct json_object *p = json_object_new_object();
	struct json_object *perms = json_object_new_array();
	struct json_object *roles = json_object_new_array();
	struct err e = { 0 };
	char *token = NULL;

	json_object_object_add(
	    p, "iss", json_object_new_string(o->iss ? o->iss : ISS));
	json_object_object_add(
	    p, "aud", json_object_new_string(o->aud ? o->aud : AUD));
	json_object_object_add(
	    p, "sub", json_object_new_string(o->sub ? o->sub : "user-1"));
	json_object_object_add(p, "client_id", json_object_new_string("demo"));
	json_object_object_add(p, "username", json_object_new_string("user1"));
	json_object_object_add(p, "jti", json_object_new_string("j-1"));
	json_object_object_add(p, "iat", json_object_new_int64(o->iat));
	json_object_object_add(p, "nbf", json_object_new_int64(o->nbf));
	json_object_object_add(p, "exp", json_object_new_int64(o->exp));
	json_object_array_add(roles, json_object_new_string("user"));
	json_object_object_add(p, "roles", roles);
	for (int i = 0; i < 4 && o->perms[i] != NULL; i++)
		json_object_array_add(
		    perms, json_object_new_string(o->perms[i]));
	json_object_object_add(p, "permissions", perms);
	json_object_object_add(p, "scope", json_object_new_string(""));
	if (jws_sign(k, "at+jwt", p, &token, &e) == -1) {
		fprintf(stderr, "sign: %s\n", e.msg);
		abort();
	}
	json_object_put(p);
	return token;
}

static char *
sign_default(const struct jws_key *k)
{
	struct claims_opt o = {
		.iat = T0, .nbf = T0, .exp = T0 + 900, .perms = { "read:data" }
	};
	return sign(k, &o);
}

static struct guard *
new_guard(size_t cache, struct jws_key *k)
{
	struct guard_config gc = { .issuer = ISS,
		.audience = AUD,
		.leeway = 30,
		.cache_entries = cache,
		.now = clock_now };
	struct err e = { 0 };
	struct guard *g = guard_new(&gc, &e);

	if (g == NULL)
		abort();
	if (k != NULL)
		guard_set_keys(g, set_of(k));
	return g;
}

static int
check(struct guard *g, const char *token, const char *perm, struct err *e)
{
	struct guard_result r;
	int rc;

	*e = (struct err){ 0 };
	rc = guard_check_token(
	    g, token, strlen(token), perm, strlen(perm), &r, e);
	guard_result_release(&r);
	return rc;
}

static void
test_allow_and_scope(void)
{
	struct guard *g = new_guard(16, key_a);
	char *tok = sign_default(key_a);
	struct guard_result r;
	struct err e = { 0 };

	fake_now = T0 + 10;
	CHECK(guard_check_token(g, tok, strlen(tok), "read:data", 9, &r, &e) ==
	      0);
	CHECK(r.token != NULL && strcmp(r.token->sub.s, "user-1") == 0);
	guard_result_release(&r);
	/* Valid token, missing permission: 403, the token still known. */
	e = (struct err){ 0 };
	CHECK(guard_check_token(
	          g, tok, strlen(tok), "read:admin_panel", 16, &r, &e) == -1);
	CHECK(e.code == ERR_INSUFFICIENT_SCOPE);
	CHECK(r.token != NULL);
	guard_result_release(&r);
	free(tok);
	guard_free(g);
}

/* The permission compare is exact and length-aware, from cache too. */
static void
test_permission_exact(void)
{
	struct guard *g = new_guard(16, key_a);
	char *tok = sign_default(key_a);
	struct guard_result r;
	struct err e = { 0 };

	fake_now = T0 + 10;
	CHECK(guard_check_token(g, tok, strlen(tok), "read:data", 9, &r, &e) ==
	      0);
	guard_result_release(&r);
	CHECK(guard_check_token(g, tok, strlen(tok), "read:dat", 8, &r, &e) ==
	      -1);
	CHECK(e.code == ERR_INSUFFICIENT_SCOPE);
	guard_result_release(&r);
	e = (struct err){ 0 };
	CHECK(guard_check_token(
	          g, tok, strlen(tok), "read:data\0x", 11, &r, &e) == -1);
	CHECK(e.code == ERR_INSUFFICIENT_SCOPE);
	CHECK(r.cache_hit);
	guard_result_release(&r);
	free(tok);
	guard_free(g);
}

/* The cache never serves a token the verifier would refuse: a hit still
 * checks exp against the clock. */
static void
test_cache_never_serves_expired(void)
{
	struct guard *g = new_guard(16, key_a);
	struct claims_opt o = {
		.iat = T0, .nbf = T0, .exp = T0 + 60, .perms = { "read:data" }
	};
	char *tok = sign(key_a, &o);
	struct token_cache_stats st;
	struct guard_result r;
	struct err e;

	fake_now = T0;
	CHECK(check(g, tok, "read:data", &e) == 0);
	fake_now = T0 + 59;
	e = (struct err){ 0 };
	CHECK(guard_check_token(g, tok, strlen(tok), "read:data", 9, &r, &e) ==
	      0);
	CHECK(r.cache_hit);
	guard_result_release(&r);
	/* At exp the cache lets go; the verifier's leeway still applies. */
	fake_now = T0 + 60;
	CHECK(guard_check_token(g, tok, strlen(tok), "read:data", 9, &r, &e) ==
	      0);
	CHECK(!r.cache_hit);
	guard_result_release(&r);
	fake_now = T0 + 89;
	CHECK(check(g, tok, "read:data", &e) == 0);
	fake_now = T0 + 90;
	CHECK(check(g, tok, "read:data", &e) == -1);
	CHECK(e.code == ERR_TOKEN_EXPIRED);
	fake_now = T0 + 100000;
	CHECK(check(g, tok, "read:data", &e) == -1);
	CHECK(e.code == ERR_TOKEN_EXPIRED);
	guard_cache_stats(g, &st);
	CHECK(st.hits == 1);
	free(tok);
	guard_free(g);
}

static void
test_not_yet_valid(void)
{
	struct guard *g = new_guard(16, key_a);
	struct claims_opt o = { .iat = T0,
		.nbf = T0 + 100,
		.exp = T0 + 900,
		.perms = { "read:data" } };
	char *tok = sign(key_a, &o);
	struct err e;

	fake_now = T0;
	CHECK(check(g, tok, "read:data", &e) == -1);
	CHECK(e.code == ERR_TOKEN_NOT_YET_VALID);
	fake_now = T0 + 70; /* within the 30 s leeway */
	CHECK(check(g, tok, "read:data", &e) == 0);
	free(tok);
	guard_free(g);
}

static void
test_issuer_audience(void)
{
	struct guard *g = new_guard(16, key_a);
	struct claims_opt o = {
		.iat = T0, .nbf = T0, .exp = T0 + 900, .perms = { "read:data" }
	};
	char *good = sign(key_a, &o), *bad_iss, *bad_aud;
	struct err e;

	o.iss = "http://evil.example";
	bad_iss = sign(key_a, &o);
	o.iss = NULL;
	o.aud = "other_service";
	bad_aud = sign(key_a, &o);
	fake_now = T0 + 1;
	CHECK(check(g, good, "read:data", &e) == 0);
	CHECK(check(g, bad_iss, "read:data", &e) == -1);
	CHECK(e.code == ERR_TOKEN_ISSUER);
	CHECK(check(g, bad_aud, "read:data", &e) == -1);
	CHECK(e.code == ERR_TOKEN_AUDIENCE);
	free(good);
	free(bad_iss);
	free(bad_aud);
	guard_free(g);
}

static void
test_other_key(void)
{
	struct guard *g = new_guard(16, key_a);
	char *good = sign_default(key_a), *other = sign_default(key_b);
	struct err e;

	fake_now = T0 + 1;
	CHECK(check(g, good, "read:data", &e) == 0);
	/* A kid the set lacks: refused as such (routes.c then holds the
	 * request for a refetch, kid_wait.c). */
	CHECK(check(g, other, "read:data", &e) == -1);
	CHECK(e.code == ERR_TOKEN_KID);
	free(good);
	free(other);
	guard_free(g);
}

/* Signed by B but naming A's kid: the signature check refuses it. */
static void
test_forged_kid(void)
{
	struct guard *g = new_guard(16, key_a);
	char saved[sizeof(key_b->kid)], *forged, *good = sign_default(key_a);
	struct err e;

	memcpy(saved, key_b->kid, sizeof(saved));
	memcpy(key_b->kid, key_a->kid, sizeof(saved));
	forged = sign_default(key_b);
	memcpy(key_b->kid, saved, sizeof(saved));
	fake_now = T0 + 1;
	CHECK(check(g, good, "read:data", &e) == 0);
	CHECK(check(g, forged, "read:data", &e) == -1);
	CHECK(e.code == ERR_TOKEN_SIGNATURE);
	free(forged);
	free(good);
	guard_free(g);
}

static void
test_tampered(void)
{
	struct guard *g = new_guard(16, key_a);
	char *tok = sign_default(key_a);
	char *dot = strchr(tok, '.');
	struct err e;

	fake_now = T0 + 1;
	CHECK(check(g, tok, "read:data", &e) == 0);
	/* One payload character changed, after the token was cached: the
	 * cache key is the whole token, so this is a miss and fails. */
	dot[5] = dot[5] == 'A' ? 'B' : 'A';
	CHECK(check(g, tok, "read:data", &e) == -1);
	CHECK(e.code == ERR_TOKEN_SIGNATURE || e.code == ERR_TOKEN_MALFORMED);
	CHECK(check(g, "not-a-token", "read:data", &e) == -1);
	CHECK(e.code == ERR_TOKEN_MALFORMED);
	free(tok);
	guard_free(g);
}

/* A new key set empties the cache: a token cached under A is refused
 * once A is no longer trusted. Re-installing the same set keeps it. */
static void
test_key_change_empties_cache(void)
{
	struct guard *g = new_guard(16, key_a);
	struct jwks *only_b = set_of(key_b), *again_a = set_of(key_a);
	char *tok = sign_default(key_a);
	struct token_cache_stats st;
	struct guard_result r;
	struct err e;

	fake_now = T0 + 1;
	CHECK(check(g, tok, "read:data", &e) == 0);
	CHECK(check(g, tok, "read:data", &e) == 0);
	guard_cache_stats(g, &st);
	CHECK(st.hits == 1);
	/* Cached under A; A is no longer trusted: refused. */
	guard_set_keys(g, jwks_retain(only_b));
	CHECK(check(g, tok, "read:data", &e) == -1);
	CHECK(e.code == ERR_TOKEN_KID);
	guard_set_keys(g, jwks_retain(again_a));
	e = (struct err){ 0 };
	CHECK(guard_check_token(g, tok, strlen(tok), "read:data", 9, &r, &e) ==
	      0);
	CHECK(!r.cache_hit);
	guard_result_release(&r);
	/* The same set posted again is no change: the cache survives. */
	guard_set_keys(g, jwks_retain(again_a));
	CHECK(guard_check_token(g, tok, strlen(tok), "read:data", 9, &r, &e) ==
	      0);
	CHECK(r.cache_hit);
	guard_result_release(&r);
	jwks_free(only_b);
	jwks_free(again_a);
	free(tok);
	guard_free(g);
}

static void
test_no_keys(void)
{
	struct guard *g = new_guard(16, NULL);
	char *tok = sign_default(key_a);
	struct err e;

	fake_now = T0 + 1;
	CHECK(guard_key_count(g) == 0);
	CHECK(check(g, tok, "read:data", &e) == -1);
	CHECK(e.code == ERR_UNAVAILABLE);
	guard_set_keys(g, set_of(key_a));
	CHECK(guard_key_count(g) == 1);
	CHECK(check(g, tok, "read:data", &e) == 0);
	free(tok);
	guard_free(g);
}

static void
test_cache_off(void)
{
	struct guard *g = new_guard(0, key_a);
	char *tok = sign_default(key_a);
	struct token_cache_stats st;
	struct guard_result r;
	struct err e = { 0 };

	fake_now = T0 + 1;
	for (int i = 0; i < 3; i++) {
		CHECK(guard_check_token(
		          g, tok, strlen(tok), "read:data", 9, &r, &e) == 0);
		CHECK(r.owned != NULL && r.token == r.owned);
		CHECK(!r.cache_hit);
		guard_result_release(&r);
	}
	guard_cache_stats(g, &st);
	CHECK(st.hits == 0 && st.stores == 0);
	free(tok);
	guard_free(g);
}

static int
check_header(
    struct guard *g, const char *const *values, size_t n, struct err *e)
{
	struct evhttp_request *req = evhttp_request_new(NULL, NULL);
	struct guard_result r;
	int rc;

	for (size_t i = 0; i < n; i++)
		evhttp_add_header(evhttp_request_get_input_headers(req),
		    "Authorization", values[i]);
	*e = (struct err){ 0 };
	rc = guard_check_request(g, req, "read:data", 9, &r, e);
	guard_result_release(&r);
	evhttp_request_free(req);
	return rc;
}

/* RFC 6750 2.1 via http_bearer_token: one header, scheme Bearer in any
 * case, one token. */
static void
test_authorization_header(void)
{
	struct guard *g = new_guard(16, key_a);
	char *tok = sign_default(key_a);
	char upper[4096], lower[4096], spaced[4096];
	const char *v[2];
	struct err e;

	fake_now = T0 + 1;
	snprintf(upper, sizeof(upper), "Bearer %s", tok);
	snprintf(lower, sizeof(lower), "bearer %s", tok);
	snprintf(spaced, sizeof(spaced), "Bearer %s extra", tok);
	v[0] = upper;
	CHECK(check_header(g, v, 1, &e) == 0);
	v[0] = lower;
	CHECK(check_header(g, v, 1, &e) == 0);
	CHECK(check_header(g, v, 0, &e) == -1);
	CHECK(e.code == ERR_TOKEN_MISSING);
	v[0] = upper;
	v[1] = upper;
	CHECK(check_header(g, v, 2, &e) == -1);
	CHECK(e.code == ERR_BEARER_MALFORMED);
	v[0] = "Basic dXNlcjE6cGFzc3dvcmQxMjM=";
	CHECK(check_header(g, v, 1, &e) == -1);
	CHECK(e.code == ERR_TOKEN_MISSING);
	v[0] = spaced;
	CHECK(check_header(g, v, 1, &e) == -1);
	CHECK(e.code == ERR_BEARER_MALFORMED);
	free(tok);
	guard_free(g);
}

static int
decide(struct guard *g, const char *auth, const char *target,
    const struct guard_need *need, struct guard_result *r, struct err *e)
{
	struct evhttp_request *req = evhttp_request_new(NULL, NULL);
	int rc;

	if (auth != NULL)
		evhttp_add_header(evhttp_request_get_input_headers(req),
		    "Authorization", auth);
	*e = (struct err){ 0 };
	rc = guard_decide(g, req, target, need, r, e);
	evhttp_request_free(req);
	return rc;
}

/* all_of needs every permission, any_of one; public needs no token and
 * never looks at one. */
static void
test_decide_needs(void)
{
	struct guard *g = new_guard(16, key_a);
	struct claims_opt o = { .iat = T0,
		.nbf = T0,
		.exp = T0 + 900,
		.perms = { "read:data", "write:data" } };
	char *tok = sign(key_a, &o), auth[4096];
	char *both[] = { "read:data", "write:data" };
	char *one_missing[] = { "read:data", "delete:users" };
	char *none_held[] = { "delete:users", "read:admin_panel" };
	size_t both_len[] = { 9, 10 }, one_len[] = { 9, 12 },
	       none_len[] = { 12, 16 };
	struct guard_need all_ok = { GUARD_ALL_OF, both, both_len, 2 };
	struct guard_need all_no = { GUARD_ALL_OF, one_missing, one_len, 2 };
	struct guard_need any_ok = { GUARD_ANY_OF, one_missing, one_len, 2 };
	struct guard_need any_no = { GUARD_ANY_OF, none_held, none_len, 2 };
	struct guard_need pub = { GUARD_PUBLIC, NULL, NULL, 0 };
	struct guard_result r;
	struct err e;

	fake_now = T0 + 1;
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	CHECK(decide(g, auth, "/x", &all_ok, &r, &e) == 0 && r.token != NULL);
	guard_result_release(&r);
	CHECK(decide(g, auth, "/x", &all_no, &r, &e) == -1 &&
	      e.code == ERR_INSUFFICIENT_SCOPE && r.token != NULL);
	guard_result_release(&r);
	CHECK(decide(g, auth, "/x", &any_ok, &r, &e) == 0);
	guard_result_release(&r);
	CHECK(decide(g, auth, "/x", &any_no, &r, &e) == -1 &&
	      e.code == ERR_INSUFFICIENT_SCOPE);
	guard_result_release(&r);
	/* Public: allowed with no token, with a forged one, with two
	 * headers' worth of nonsense; no token is ever verified. */
	CHECK(decide(g, NULL, "/x", &pub, &r, &e) == 0 && r.token == NULL);
	CHECK(
	    decide(g, "Bearer x.y.z", "/x?access_token=1", &pub, &r, &e) == 0 &&
	    r.token == NULL);
	/* Not public: no token is 401 missing. */
	CHECK(decide(g, NULL, "/x", &any_ok, &r, &e) == -1 &&
	      e.code == ERR_TOKEN_MISSING);
	guard_result_release(&r);
	free(tok);
	guard_free(g);
}

/* The access_token query check is made on the target given, which for
 * the forward-auth endpoint is the forwarded one (RFC 6750 3.1: one
 * method only). */
static void
test_decide_target_query(void)
{
	struct guard *g = new_guard(16, key_a);
	char *tok = sign_default(key_a), auth[4096];
	char *perms[] = { "read:data" };
	size_t lens[] = { 9 };
	struct guard_need need = { GUARD_ALL_OF, perms, lens, 1 };
	struct guard_result r;
	struct err e;

	fake_now = T0 + 1;
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	CHECK(decide(g, auth, "/x?a=1&access_token=abc", &need, &r, &e) == -1 &&
	      e.code == ERR_BEARER_MALFORMED);
	guard_result_release(&r);
	CHECK(decide(g, auth, "/x?a=1&access_tokens=abc", &need, &r, &e) == 0);
	guard_result_release(&r);
	free(tok);
	guard_free(g);
}

int
main(void)
{
	struct err e = { 0 };

	CHECK(secret_init() == 0);
	key_a = jwk_generate(JWS_ALG_ES256, 0, &e);
	key_b = jwk_generate(JWS_ALG_ES256, 0, &e);
	if (key_a == NULL || key_b == NULL) {
		fprintf(stderr, "keygen: %s\n", e.msg);
		return 1;
	}
	RUN(test_allow_and_scope);
	RUN(test_permission_exact);
	RUN(test_cache_never_serves_expired);
	RUN(test_not_yet_valid);
	RUN(test_issuer_audience);
	RUN(test_other_key);
	RUN(test_forged_kid);
	RUN(test_tampered);
	RUN(test_key_change_empties_cache);
	RUN(test_no_keys);
	RUN(test_cache_off);
	RUN(test_authorization_header);
	RUN(test_decide_needs);
	RUN(test_decide_target_query);
	jwk_free(key_a);
	jwk_free(key_b);
	return test_report();
}
