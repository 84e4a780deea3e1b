/* verify_cost: N verify_access_token() calls on N distinct RS256 tokens
 * shaped like the issuer's, for a load-independent cost figure:
 *   valgrind --tool=callgrind --toggle-collect=verify_access_token \
 *       build/verify_cost 1000
 * counts only the instructions spent inside the verifier (key generation
 * and signing are outside it). Without valgrind it prints verifications
 * per second on this machine, which the machine's load moves. Not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_util.h"
#include "jwk.h"
#include "jwks.h"
#include "jws.h"
#include "verify.h"

#define NOW 1700000000
#define ISS "https://auth.example"
#define AUD "resource_service"

static int64_t
fixed_clock(void *arg)
{
	return *(const int64_t *)arg;
}

/* The issuer's claims (auth_service/issuer.c) for user i. */
static char *
sign_one(const struct jws_key *k, int i, struct err *e)
{
	char text[1024];
	struct json_object *payload = NULL;
	char *token = NULL;

	snprintf(text, sizeof(text),
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"%d\","
	    "\"client_id\":\"auth_service\",\"iat\":%d,\"nbf\":%d,"
	    "\"exp\":%d,\"jti\":\"%032x\",\"username\":\"user%d\","
	    "\"roles\":[\"user\"],\"permissions\":[\"read:data\","
	    "\"write:data\"],\"scope\":\"read:data write:data\"}",
	    i, NOW, NOW, NOW + 900, (unsigned int)i * 2654435761u, i);
	if (json_parse_strict(text, strlen(text), JSON_DEFAULT_MAX_DEPTH,
	        ERR_INTERNAL, &payload, e) == 0)
		jws_sign(k, "at+jwt", payload, &token, e);
	json_object_put(payload);
	return token;
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	int64_t now = NOW;
	struct err e = { 0 };
	struct jws_key *priv, *pub = NULL;
	struct json_object *jwk;
	struct jwks *set;
	struct timespec t0, t1;
	char **tokens;
	double secs;

	if (n <= 0 || (tokens = calloc((size_t)n, sizeof(*tokens))) == NULL)
		return 2;
	/* The verifier holds only the public key, read from a JWK as the
	 * resource service reads its JWKS. */
	if ((priv = jwk_generate(JWS_ALG_RS256, 2048, &e)) == NULL ||
	    (jwk = jwk_to_json(priv)) == NULL ||
	    (pub = jwk_from_json(jwk, &e)) == NULL ||
	    (set = jwks_new()) == NULL || jwks_add(set, pub, &e) == -1) {
		fprintf(stderr, "verify_cost: keys: %s\n", e.msg);
		return 1;
	}
	json_object_put(jwk);
	for (int i = 0; i < n; i++)
		if ((tokens[i] = sign_one(priv, i, &e)) == NULL) {
			fprintf(stderr, "verify_cost: sign: %s\n", e.msg);
			return 1;
		}

	struct verify_policy p = { .keys = set,
		.issuer = ISS,
		.audience = AUD,
		.leeway = 30,
		.now = fixed_clock,
		.now_arg = &now };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		struct access_token *t = NULL;

		e = (struct err){ 0 };
		if (verify_access_token(
		        tokens[i], strlen(tokens[i]), &p, &t, &e) == -1) {
			fprintf(
			    stderr, "verify_cost: token %d: %s\n", i, e.msg);
			return 1;
		}
		access_token_free(t);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%d verifications in %.3f s: %.0f/s\n", n, secs, n / secs);
	for (int i = 0; i < n; i++)
		free(tokens[i]);
	free(tokens);
	jwks_free(set);
	jwk_free(priv);
	return 0;
}
