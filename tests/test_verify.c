/* Tests for verify: the whole policy on real signed tokens with an
 * injected clock. Each refusal sits next to the same token made valid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64url.h"
#include "json_util.h"
#include "jws.h"
#include "test.h"
#include "verify.h"

#define NOW 1700000000
#define ISS "https://auth.example"
#define AUD "resource_service"

static struct jws_key *key, *other;
static struct jwks *keys;

static int64_t
fixed_clock(void *arg)
{
	return *(const int64_t *)arg;
}

static struct verify_policy
policy(const int64_t *now)
{
	return (struct verify_policy){ .keys = keys,
		.issuer = ISS,
		.audience = AUD,
		.leeway = 30,
		.now = fixed_clock,
		.now_arg = (void *)now };
}

/* Claims text signed by k with typ (NULL: no typ). */
static char *
token_typ(const struct jws_key *k, const char *typ, const char *claims)
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

static char *
token(const char *claims)
{
	return token_typ(key, "at+jwt", claims);
}

/* The standard claims with extra members spliced in at the end. */
static char *
claims_with(const char *extra)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"42\","
	    "\"jti\":\"j-1\",\"client_id\":\"cli\","
	    "\"exp\":%d,\"iat\":%d,\"nbf\":%d,\"permissions\":[\"read:data\"]%"
	    "s%s}",
	    NOW + 900, NOW, NOW, extra[0] != '\0' ? "," : "", extra);
	return buf;
}

static enum err_code
check_at(const char *t, int64_t now, struct access_token **out, struct err *e)
{
	struct verify_policy p = policy(&now);
	struct access_token *at = NULL;
	enum err_code code;

	*e = (struct err){ 0 };
	if (t == NULL)
		return ERR_INTERNAL;
	code = verify_access_token(t, strlen(t), &p, &at, e) == 0 ? ERR_OK
	                                                          : e->code;
	CHECK((code == ERR_OK) == (at != NULL));
	if (out != NULL)
		*out = at;
	else
		access_token_free(at);
	return code;
}

#define EXPECT_AT(t, now, want) expect_at(__LINE__, (t), (now), (want))

static void
expect_at(int line, const char *t, int64_t now, enum err_code want)
{
	struct err e = { 0 };
	enum err_code got = check_at(t, now, NULL, &e);

	CHECK(got == want);
	if (got != want)
		fprintf(stderr, "  line %d: got %s (%s), want %s\n", line,
		    err_code_name(got), e.msg, err_code_name(want));
}

static void
test_valid_token_fields(void)
{
	struct access_token *at = NULL;
	struct err e = { 0 };
	char *t =
	    token(claims_with("\"username\":\"user1\",\"roles\":[\"user\","
	                      "\"admin\"],\"scope\":\"read:data\""));

	CHECK(check_at(t, NOW, &at, &e) == ERR_OK);
	if (at != NULL) {
		CHECK(at->sub.len == 2 && strcmp(at->sub.s, "42") == 0);
		CHECK(at->username.len == 5 &&
		      strcmp(at->username.s, "user1") == 0);
		CHECK(strcmp(at->jti.s, "j-1") == 0);
		CHECK(strcmp(at->client_id.s, "cli") == 0);
		CHECK(strcmp(at->kid.s, key->kid) == 0);
		CHECK(at->n_roles == 2 && strcmp(at->roles[1].s, "admin") == 0);
		CHECK(at->n_permissions == 1);
		CHECK(at->exp == NOW + 900 && at->iat == NOW && at->nbf == NOW);
		CHECK(access_token_has_permission(at, "read:data", 9));
		CHECK(!access_token_has_permission(at, "write:data", 10));
	}
	access_token_free(at);
	access_token_free(NULL);
	free(t);
}

/* Required besides iss, aud and exp: iat, sub, jti, client_id (RFC 9068
 * 2.2) and permissions; nbf, roles and username are optional. */
static void
test_optional_claims(void)
{
	static const char *const without[] = {
		/* each misses one required claim, or has it empty */
		"\"sub\":\"s\",\"jti\":\"j\",\"client_id\":\"c\"",
		"\"sub\":\"s\",\"iat\":%d,\"client_id\":\"c\"",
		"\"sub\":\"s\",\"iat\":%d,\"jti\":\"j\"",
		"\"sub\":\"s\",\"iat\":%d,\"jti\":\"\",\"client_id\":\"c\"",
		"\"sub\":\"s\",\"iat\":%d,\"jti\":\"j\",\"client_id\":\"\"",
	};
	struct access_token *at = NULL;
	struct err e = { 0 };
	char buf[512], fmt[256], *t;

	snprintf(buf, sizeof(buf),
	    "{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"" AUD "\"],\"sub\":\"s\","
	    "\"iat\":%d,\"jti\":\"j\",\"client_id\":\"c\","
	    "\"exp\":%d,\"permissions\":[]}",
	    NOW, NOW + 60);
	t = token(buf);
	CHECK(check_at(t, NOW, &at, &e) == ERR_OK);
	if (at != NULL) {
		CHECK(at->username.s == NULL && at->n_roles == 0);
		CHECK(strcmp(at->jti.s, "j") == 0);
		CHECK(strcmp(at->client_id.s, "c") == 0);
		CHECK(at->n_permissions == 0 && at->nbf == 0 && at->iat == NOW);
		CHECK(!access_token_has_permission(at, "", 0));
	}
	access_token_free(at);
	free(t);
	for (size_t i = 0; i < sizeof(without) / sizeof(*without); i++) {
		/* A literal format per case, with the iat (if any) by hand. */
		snprintf(fmt, sizeof(fmt), "%s", without[i]);
		if (strstr(fmt, "%d") != NULL) {
			char *at_d = strstr(fmt, "%d");
			char tail[256];

			snprintf(tail, sizeof(tail), "%s", at_d + 2);
			snprintf(at_d, sizeof(fmt) - (size_t)(at_d - fmt),
			    "%d%s", NOW, tail);
		}
		snprintf(buf, sizeof(buf),
		    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",%s,"
		    "\"exp\":%d,\"permissions\":[]}",
		    fmt, NOW + 60);
		t = token(buf);
		EXPECT_AT(t, NOW, ERR_TOKEN_CLAIMS);
		free(t);
	}
	/* An expired token is told it expired before anything is said of
	 * a missing claim. */
	snprintf(buf, sizeof(buf),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"s\","
	    "\"exp\":%d,\"permissions\":[]}",
	    NOW - 100);
	t = token(buf);
	EXPECT_AT(t, NOW, ERR_TOKEN_EXPIRED);
	free(t);
}

/* RFC 7519 4.1.4: exp is exclusive, with the leeway. */
static void
test_expiry_with_injected_clock(void)
{
	char *t = token(claims_with(""));

	EXPECT_AT(t, NOW + 900 + 29, ERR_OK);
	EXPECT_AT(t, NOW + 900 + 30, ERR_TOKEN_EXPIRED);
	EXPECT_AT(t, NOW + 900 + 100000, ERR_TOKEN_EXPIRED);
	free(t);
}

/* RFC 7519 4.1.5 nbf, 4.1.6 iat: not before, with the leeway. */
static void
test_not_yet_valid(void)
{
	char buf[512], *t;

	snprintf(buf, sizeof(buf),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"s\","
	    "\"jti\":\"j\",\"client_id\":\"c\",\"iat\":%d,"
	    "\"exp\":%d,\"nbf\":%d,\"permissions\":[]}",
	    NOW, NOW + 900, NOW + 100);
	t = token(buf);
	EXPECT_AT(t, NOW + 69, ERR_TOKEN_NOT_YET_VALID);
	EXPECT_AT(t, NOW + 70, ERR_OK);
	free(t);
	snprintf(buf, sizeof(buf),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"s\","
	    "\"jti\":\"j\",\"client_id\":\"c\","
	    "\"exp\":%d,\"iat\":%d,\"permissions\":[]}",
	    NOW + 900, NOW + 100);
	t = token(buf);
	EXPECT_AT(t, NOW + 69, ERR_TOKEN_NOT_YET_VALID);
	EXPECT_AT(t, NOW + 70, ERR_OK);
	free(t);
}

static void
test_issuer_and_audience(void)
{
	char buf[512], *t;

	snprintf(buf, sizeof(buf),
	    "{\"iss\":\"" ISS "/\",\"aud\":\"" AUD "\",\"sub\":\"s\","
	    "\"exp\":%d,\"permissions\":[]}",
	    NOW + 900);
	t = token(buf);
	EXPECT_AT(t, NOW, ERR_TOKEN_ISSUER);
	free(t);
	/* The issuer followed by an embedded NUL is another issuer. */
	snprintf(buf, sizeof(buf),
	    "{\"iss\":\"" ISS "\\u0000\",\"aud\":\"" AUD "\",\"sub\":\"s\","
	    "\"exp\":%d,\"permissions\":[]}",
	    NOW + 900);
	t = token(buf);
	EXPECT_AT(t, NOW, ERR_TOKEN_ISSUER);
	free(t);
	snprintf(buf, sizeof(buf),
	    "{\"iss\":\"" ISS "\",\"aud\":[\"other\"],\"sub\":\"s\","
	    "\"exp\":%d,\"permissions\":[]}",
	    NOW + 900);
	t = token(buf);
	EXPECT_AT(t, NOW, ERR_TOKEN_AUDIENCE);
	free(t);
	snprintf(buf, sizeof(buf),
	    "{\"aud\":\"" AUD "\",\"sub\":\"s\",\"exp\":%d,\"permissions\":[]}",
	    NOW + 900);
	t = token(buf);
	EXPECT_AT(t, NOW, ERR_TOKEN_CLAIMS);
	free(t);
	/* Control. */
	t = token(claims_with(""));
	EXPECT_AT(t, NOW, ERR_OK);
	free(t);
}

/* RFC 9068 section 2.1 / RFC 8725 3.11: typ at+jwt is required. */
static void
test_typ(void)
{
	char *t;

	t = token_typ(key, NULL, claims_with(""));
	EXPECT_AT(t, NOW, ERR_TOKEN_HEADER);
	free(t);
	t = token_typ(key, "JWT", claims_with(""));
	EXPECT_AT(t, NOW, ERR_TOKEN_HEADER);
	free(t);
	t = token_typ(key, "application/at+jwt", claims_with(""));
	EXPECT_AT(t, NOW, ERR_OK);
	free(t);
	t = token_typ(key, "at+jwt", claims_with(""));
	EXPECT_AT(t, NOW, ERR_OK);
	free(t);
}

/* header.payload signed by k from the exact texts given, which the JSON
 * serializer could not produce (duplicate names, escapes). */
static char *
token_raw(const struct jws_key *k, const char *header, const char *payload)
{
	char *h = b64url_encode(header, strlen(header));
	char *p = b64url_encode(payload, strlen(payload));
	char *input = NULL, *s64 = NULL, *t = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	struct err e = { 0 };

	if (h == NULL || p == NULL ||
	    (input = malloc(strlen(h) + strlen(p) + 2)) == NULL)
		goto out;
	sprintf(input, "%s.%s", h, p);
	if (jws_sign_raw(k, (const unsigned char *)input, strlen(input), &sig,
	        &siglen, &e) == -1 ||
	    (s64 = b64url_encode(sig, siglen)) == NULL ||
	    (t = malloc(strlen(input) + strlen(s64) + 2)) == NULL)
		goto out;
	sprintf(t, "%s.%s", input, s64);
out:
	free(s64);
	free(sig);
	free(input);
	free(p);
	free(h);
	return t;
}

/* RFC 7519 section 4: a claims set with a repeated name is rejected (the
 * other choice, the last one wins, would let two parsers disagree on exp
 * or sub). Escaped spellings name the same claim. The header's typ is a
 * media type: case-insensitive, "application/" optional (RFC 7515 4.1.9,
 * RFC 9068 2.1). */
static void
test_duplicate_claims_and_typ_spelling(void)
{
	static const char *const dups[] = {
		",\"exp\":1",
		",\"e\\u0078p\":1",
		",\"sub\":\"admin\"",
		",\"\\u0073ub\":\"admin\"",
		",\"permissions\":[\"delete:users\"]",
	};
	static const char *const typs[] = { "AT+JWT", "At+Jwt",
		"APPLICATION/AT+JWT", "Application/at+jwt" };
	char header[256], payload[2048], *t;

	snprintf(header, sizeof(header),
	    "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}",
	    jws_alg_name(key->alg), key->kid);
	for (size_t i = 0; i < sizeof(dups) / sizeof(*dups); i++) {
		snprintf(payload, sizeof(payload), "%s", claims_with(""));
		payload[strlen(payload) - 1] = '\0'; /* drop the '}' */
		strncat(
		    payload, dups[i], sizeof(payload) - strlen(payload) - 2);
		strcat(payload, "}");
		t = token_raw(key, header, payload);
		EXPECT_AT(t, NOW, ERR_TOKEN_MALFORMED);
		free(t);
	}
	/* Control: the same raw signing, no repeated name. */
	t = token_raw(key, header, claims_with(""));
	EXPECT_AT(t, NOW, ERR_OK);
	free(t);

	for (size_t i = 0; i < sizeof(typs) / sizeof(*typs); i++) {
		t = token_typ(key, typs[i], claims_with(""));
		EXPECT_AT(t, NOW, ERR_OK);
		free(t);
	}
	/* Other media types, and near misses, stay refused. */
	t = token_typ(key, "application/jwt", claims_with(""));
	EXPECT_AT(t, NOW, ERR_TOKEN_HEADER);
	free(t);
	t = token_typ(key, "text/at+jwt", claims_with(""));
	EXPECT_AT(t, NOW, ERR_TOKEN_HEADER);
	free(t);
	t = token_typ(key, "at+jwt ", claims_with(""));
	EXPECT_AT(t, NOW, ERR_TOKEN_HEADER);
	free(t);
}

static void
test_claim_types(void)
{
	/* Each a complete payload but for iss and aud. */
	static const char *const bad[] = {
		"\"exp\":%d,\"permissions\":[]",
		"\"sub\":\"\",\"exp\":%d,\"permissions\":[]",
		"\"sub\":42,\"exp\":%d,\"permissions\":[]",
		"\"sub\":\"s\",\"exp\":%d",
		"\"sub\":\"s\",\"exp\":%d,\"permissions\":\"read:data\"",
		"\"sub\":\"s\",\"exp\":%d,\"permissions\":[\"read:data\",7]",
		"\"sub\":\"s\",\"exp\":%d,\"permissions\":[],\"roles\":\"a\"",
		"\"sub\":\"s\",\"exp\":%d,\"permissions\":[],\"roles\":[null]",
		"\"sub\":\"s\",\"exp\":%d,\"permissions\":[],\"username\":1",
		"\"sub\":\"s\",\"exp\":%d,\"permissions\":[],\"jti\":null",
		"\"sub\":\"s\",\"exp\":%d,\"permissions\":[],\"client_id\":[]",
		"\"sub\":\"s\",\"exp\":\"%d\",\"permissions\":[]",
	};
	char body[256], buf[512], *t, *at;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		/* The one %d is the expiry: substitute it by hand, so the
		 * format strings stay literals. */
		snprintf(body, sizeof(body), "%s", bad[i]);
		at = strstr(body, "%d");
		CHECK(at != NULL);
		if (at == NULL)
			continue;
		*at = '\0';
		/* The RFC 9068 claims each case does not spell itself, so
		 * that it fails for its own reason. */
		snprintf(buf, sizeof(buf),
		    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
		    "\",\"iat\":%d,%s%s%s%d%s}",
		    NOW, strstr(bad[i], "jti") ? "" : "\"jti\":\"j\",",
		    strstr(bad[i], "client_id") ? "" : "\"client_id\":\"c\",",
		    body, NOW + 900, at + 2);
		t = token(buf);
		EXPECT_AT(t, NOW, ERR_TOKEN_CLAIMS);
		free(t);
	}
	/* Control: the same shape, all types right. */
	snprintf(buf, sizeof(buf),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"s\","
	    "\"exp\":%d,\"permissions\":[],\"roles\":[],\"username\":\"u\","
	    "\"jti\":\"j\",\"client_id\":\"c\",\"iat\":%d}",
	    NOW + 900, NOW);
	t = token(buf);
	EXPECT_AT(t, NOW, ERR_OK);
	free(t);
}

/* Strings are compared with their lengths; an embedded NUL never
 * shortens a permission, and is kept (not truncated) in the copies. */
static void
test_embedded_nul_never_matches(void)
{
	struct access_token *at = NULL;
	struct err e = { 0 };
	char buf[512], *t;

	snprintf(buf, sizeof(buf),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"s\\u0000t\","
	    "\"iat\":1700000000,\"jti\":\"j\",\"client_id\":\"c\","
	    "\"exp\":%d,\"username\":\"a\\u0000b\",\"permissions\":["
	    "\"read:data\\u0000x\",\"READ:DATA\",\"read:dat\",\"read:data \"]}",
	    NOW + 900);
	t = token(buf);
	CHECK(check_at(t, NOW, &at, &e) == ERR_OK);
	if (at != NULL) {
		CHECK(at->n_permissions == 4);
		CHECK(at->permissions[0].len == 11);
		CHECK(memcmp(at->permissions[0].s, "read:data\0x", 12) == 0);
		CHECK(!access_token_has_permission(at, "read:data", 9));
		CHECK(access_token_has_permission(at, "read:data\0x", 11));
		CHECK(access_token_has_permission(at, "read:dat", 8));
		CHECK(!access_token_has_permission(at, "read:da", 7));
		CHECK(at->sub.len == 3 && memcmp(at->sub.s, "s\0t", 4) == 0);
		CHECK(at->username.len == 3);
	}
	access_token_free(at);
	free(t);
	/* Control: the exact permission matches. */
	t = token(claims_with(""));
	CHECK(check_at(t, NOW, &at, &e) == ERR_OK);
	CHECK(at != NULL && access_token_has_permission(at, "read:data", 9));
	CHECK(!access_token_has_permission(at, "read:data\0", 10));
	CHECK(!access_token_has_permission(NULL, "read:data", 9));
	access_token_free(at);
	free(t);
}

/* Failures of the JWS layer come through unchanged. */
static void
test_jws_errors_pass_through(void)
{
	char *t = token_typ(other, "at+jwt", claims_with(""));

	EXPECT_AT(t, NOW, ERR_TOKEN_KID);
	free(t);
	EXPECT_AT("a.b.c", NOW, ERR_TOKEN_MALFORMED);
	EXPECT_AT("", NOW, ERR_TOKEN_MALFORMED);
	t = token(claims_with(""));
	t[strlen(t) - 5] = t[strlen(t) - 5] == 'A' ? 'B' : 'A';
	EXPECT_AT(t, NOW, ERR_TOKEN_SIGNATURE);
	free(t);
}

static void
test_policy_and_clock(void)
{
	struct verify_policy p = { 0 };
	struct access_token *at = (struct access_token *)&p;
	int64_t now = 12345;
	struct err e = { 0 };
	char *t = token(claims_with(""));
	time_t before = time(NULL);

	/* The system clock when none is injected. */
	CHECK(verify_now(&p) >= (int64_t)before &&
	      verify_now(&p) <= (int64_t)time(NULL));
	CHECK(verify_now(NULL) >= (int64_t)before);
	p = policy(&now);
	CHECK(verify_now(&p) == 12345);

	/* No keys, no issuer, no audience: refused, never fail-open. */
	p.keys = NULL;
	CHECK(verify_access_token(t, strlen(t), &p, &at, &e) == -1);
	CHECK(e.code == ERR_INTERNAL && at == NULL);
	p = policy(&now);
	p.issuer = NULL;
	e = (struct err){ 0 };
	CHECK(verify_access_token(t, strlen(t), &p, &at, &e) == -1);
	CHECK(e.code == ERR_INTERNAL);
	p = policy(&now);
	p.audience = "";
	e = (struct err){ 0 };
	CHECK(verify_access_token(t, strlen(t), &p, &at, &e) == -1);
	CHECK(e.code == ERR_INTERNAL);
	p = policy(&now);
	p.leeway = CLAIMS_MAX_LEEWAY + 1;
	e = (struct err){ 0 };
	CHECK(verify_access_token(t, strlen(t), &p, &at, &e) == -1);
	CHECK(e.code == ERR_INTERNAL);
	free(t);
}

int
main(void)
{
	struct err e = { 0 };
	struct json_object *jwk;
	int rc;

	key = jwk_generate(JWS_ALG_ES256, 0, &e);
	other = jwk_generate(JWS_ALG_ES256, 0, &e);
	keys = jwks_new();
	if (key == NULL || other == NULL || keys == NULL) {
		fprintf(stderr, "setup failed: %s\n", e.msg);
		return EXIT_FAILURE;
	}
	jwk = jwk_to_json(key);
	jwks_add(keys, jwk_from_json(jwk, &e), &e);
	json_object_put(jwk);
	RUN(test_valid_token_fields);
	RUN(test_optional_claims);
	RUN(test_expiry_with_injected_clock);
	RUN(test_not_yet_valid);
	RUN(test_issuer_and_audience);
	RUN(test_typ);
	RUN(test_duplicate_claims_and_typ_spelling);
	RUN(test_claim_types);
	RUN(test_embedded_nul_never_matches);
	RUN(test_jws_errors_pass_through);
	RUN(test_policy_and_clock);
	rc = test_report();
	jwks_free(keys);
	jwk_free(key);
	jwk_free(other);
	return rc;
}
