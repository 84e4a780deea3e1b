/* Tests for explain: each refused token names exactly one failing step,
 * the step the RFC clause belongs to, and the verdict is always the one
 * verify_access_token gives for the same token. Valid tokens sit next to
 * each refusal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "json_util.h"
#include "jws.h"
#include "test.h"

#define NOW 1700000000
#define ISS "https://auth.example"
#define AUD "resource_service"

static struct jws_key *key, *other;
static struct jwks *keys;
static int64_t now = NOW;

static int64_t
fixed_clock(void *arg)
{
	return *(const int64_t *)arg;
}

static struct verify_policy
policy(void)
{
	return (struct verify_policy){ .keys = keys,
		.issuer = ISS,
		.audience = AUD,
		.leeway = 30,
		.now = fixed_clock,
		.now_arg = &now };
}

static char *
sign(const struct jws_key *k, const char *typ, const char *claims)
{
	struct json_object *payload = NULL;
	struct err e = { 0 };
	char *t = NULL;

	if (json_parse_strict(claims, strlen(claims), 16, ERR_INVALID_REQUEST,
	        &payload, &e) == -1 ||
	    jws_sign(k, typ, payload, &t, &e) == -1)
		fprintf(stderr, "  cannot sign %s: %s\n", claims, e.msg);
	json_object_put(payload);
	return t;
}

/* Standard valid claims with the members of extra (JSON members, no
 * braces) replacing or added to them, as JSON text. */
static char *
claims_with(const char *extra)
{
	static char buf[1024];
	struct json_object *base = NULL, *more = NULL;
	char text[512];

	snprintf(text, sizeof(text), "{%s}", extra);
	base = json_tokener_parse("{\"iss\":\"" ISS "\",\"aud\":\"" AUD
	                          "\",\"sub\":\"u1\",\"iat\":1700000000,"
	                          "\"jti\":\"j-1\",\"client_id\":\"cli\","
	                          "\"nbf\":1700000000,\"exp\":1700000600,"
	                          "\"permissions\":[\"read:data\"]}");
	more = json_tokener_parse(text);
	if (base != NULL && more != NULL) {
		json_object_object_foreach(more, k, v)
		{
			json_object_object_add(base, k, json_object_get(v));
		}
	}
	snprintf(buf, sizeof(buf), "%s",
	    base != NULL ? json_object_to_json_string(base) : "");
	json_object_put(base);
	json_object_put(more);
	return buf;
}

/* Explains token; checks the one failing step is `failing` (NULL: none)
 * and the verdict equals verify_access_token's. Returns the explanation
 * (static) for further checks. */
static const struct explain *
expect(const char *token, const char *failing, enum err_code code)
{
	static struct explain x;
	struct verify_policy p = policy();
	struct access_token *t = NULL;
	struct err ve = { 0 };
	size_t fails = 0;
	const char *failed = NULL;

	CHECK(token != NULL);
	if (token == NULL)
		return &x;
	CHECK(explain_token(token, strlen(token), &p, &x) ==
	      (failing == NULL ? 0 : -1));
	verify_access_token(token, strlen(token), &p, &t, &ve);
	access_token_free(t);
	CHECK(x.verdict.code == ve.code);
	CHECK(x.verdict.code == code);
	for (size_t i = 0; i < x.n; i++) {
		if (x.steps[i].result == EXPLAIN_FAIL) {
			fails++;
			failed = x.steps[i].check;
		}
		/* After a failure nothing is claimed to pass. */
		if (fails > 0 && i > 0 && x.steps[i].result == EXPLAIN_PASS)
			CHECK(!"a step passed after a failure");
	}
	CHECK(fails == (failing != NULL ? 1u : 0u));
	if (failing != NULL && failed != NULL && strcmp(failed, failing) != 0) {
		fprintf(
		    stderr, "  expected %s to fail, got %s\n", failing, failed);
		CHECK(!"wrong failing step");
	}
	return &x;
}

static const struct explain_step *
step(const struct explain *x, const char *check)
{
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->steps[i].check, check) == 0)
			return &x->steps[i];
	return NULL;
}

static void
test_valid_token_passes_every_step(void)
{
	char *t = sign(key, "at+jwt", claims_with(""));
	const struct explain *x = expect(t, NULL, ERR_OK);

	CHECK(x->n >= 13);
	CHECK(step(x, "exp") != NULL &&
	      strstr(step(x, "exp")->detail, "minus leeway 30 s") != NULL);
	CHECK(step(x, "kid") != NULL &&
	      strstr(step(x, "kid")->detail, key->kid) != NULL);
	CHECK(step(x, "exp") != NULL &&
	      strcmp(step(x, "exp")->rfc, "RFC 7519 4.1.4") == 0);
	free(t);
}

static void
test_each_clause_fails_alone(void)
{
	static const struct {
		const char *extra, *step;
		enum err_code code;
	} cases[] = {
		{ "\"exp\":1699999970", "exp", ERR_TOKEN_EXPIRED },
		{ "\"nbf\":1700000031", "nbf", ERR_TOKEN_NOT_YET_VALID },
		{ "\"iat\":1700000031", "iat", ERR_TOKEN_NOT_YET_VALID },
		{ "\"iss\":\"https://evil\"", "iss", ERR_TOKEN_ISSUER },
		{ "\"aud\":[\"a\",\"b\"]", "aud", ERR_TOKEN_AUDIENCE },
		{ "\"aud\":[]", "registered claims", ERR_TOKEN_CLAIMS },
		{ "\"exp\":\"soon\"", "registered claims", ERR_TOKEN_CLAIMS },
		{ "\"permissions\":\"read:data\"", "access token claims",
		    ERR_TOKEN_CLAIMS },
		{ "\"sub\":\"\"", "access token claims", ERR_TOKEN_CLAIMS },
		{ "\"jti\":\"\"", "access token claims", ERR_TOKEN_CLAIMS },
	};
	/* The positive controls at the edges: exp 30 s past with leeway
	 * 30 is expired, 29 s past is not; nbf 30 s ahead is fine. */
	static const char *const fine[] = { "\"exp\":1699999971",
		"\"nbf\":1700000030", "\"iat\":1700000030",
		"\"aud\":[\"a\",\"" AUD "\"]" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *t = sign(key, "at+jwt", claims_with(cases[i].extra));
		const struct explain *x =
		    expect(t, cases[i].step, cases[i].code);
		const struct explain_step *s = step(x, cases[i].step);
		CHECK(s != NULL && s->detail[0] != '\0');
		free(t);
	}
	for (size_t i = 0; i < sizeof(fine) / sizeof(*fine); i++) {
		char *t = sign(key, "at+jwt", claims_with(fine[i]));
		expect(t, NULL, ERR_OK);
		free(t);
	}
}

static void
test_expired_names_the_times(void)
{
	char *t = sign(key, "at+jwt", claims_with("\"exp\":1699999000"));
	const struct explain *x = expect(t, "exp", ERR_TOKEN_EXPIRED);
	const struct explain_step *s = step(x, "exp");

	/* 1699999000 is 21:56:40 UTC, now 1700000000 is 22:13:20. */
	CHECK(s != NULL &&
	      strstr(s->detail, "exp 21:56:40 is at or before "
	                        "now 22:13:20 minus leeway 30 s") != NULL);
	free(t);
}

static void
test_jws_stages(void)
{
	char *good = sign(key, "at+jwt", claims_with(""));
	char *foreign = sign(other, "at+jwt", claims_with(""));
	char *idtoken = sign(key, "JWT", claims_with(""));
	char *bad = good != NULL ? strdup(good) : NULL;
	const char *none = "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0."
	                   "eyJzdWIiOiJ4In0.";
	const char *jku = "eyJhbGciOiJFUzI1NiIsImprdSI6Imh0dHA6Ly9ldmlsIn0."
	                  "eyJzdWIiOiJ4In0.AAAA";

	expect("not-a-token", "compact form", ERR_TOKEN_MALFORMED);
	expect(none, "compact form", ERR_TOKEN_MALFORMED);
	expect(jku, "header parameters", ERR_TOKEN_HEADER);
	{
		/* No key for the kid: the alg step says what it could not
		 * check yet, and says nothing of "the key's algorithm". */
		const struct explain *x = expect(foreign, "kid", ERR_TOKEN_KID);
		const struct explain_step *s = step(x, "alg");

		CHECK(s != NULL && strstr(s->detail, "needs the key") != NULL);
	}
	expect(idtoken, "typ", ERR_TOKEN_HEADER);
	if (bad != NULL) {
		/* Flip one signature character to another valid one. */
		char *sig = strrchr(bad, '.') + 1;
		sig[1] = sig[1] == 'A' ? 'B' : 'A';
		expect(bad, "signature", ERR_TOKEN_SIGNATURE);
	}
	expect(good, NULL, ERR_OK);
	free(good);
	free(foreign);
	free(idtoken);
	free(bad);
}

static void
test_time_format(void)
{
	char buf[32];

	explain_time(NOW - 60, NOW, buf, sizeof(buf));
	CHECK(strcmp(buf, "22:12:20") == 0);
	explain_time(NOW - 86400, NOW, buf, sizeof(buf));
	CHECK(strcmp(buf, "2023-11-13 22:13:20") == 0);
}

int
main(void)
{
	struct err e = { 0 };

	key = jwk_generate(JWS_ALG_ES256, 0, &e);
	other = jwk_generate(JWS_ALG_ES256, 0, &e);
	keys = jwks_new();
	if (key == NULL || other == NULL || keys == NULL)
		return EXIT_FAILURE;
	/* The set holds a public copy; key keeps the private half. */
	{
		struct json_object *j = jwk_to_json(key);
		struct jws_key *pub = jwk_from_json(j, &e);
		json_object_put(j);
		if (pub == NULL || jwks_add(keys, pub, &e) == -1)
			return EXIT_FAILURE;
	}
	RUN(test_valid_token_passes_every_step);
	RUN(test_each_clause_fails_alone);
	RUN(test_expired_names_the_times);
	RUN(test_jws_stages);
	RUN(test_time_format);
	jwks_free(keys);
	jwk_free(key);
	jwk_free(other);
	return test_report();
}
