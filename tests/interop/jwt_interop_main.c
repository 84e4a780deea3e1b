/* jwt-interop: a small command line over libjwtcommon for the interop tests,
 * so an independent implementation (python3-jwt, python3-jwcrypto) can
 * check our tokens and hand us its own.
 *
 *   jwt-interop sign KEY.pem PAYLOAD.json
 *       prints a compact token, header {"alg","typ":"at+jwt","kid"}
 *   jwt-interop verify PUB.pem|JWKS.json TOKEN ISSUER AUDIENCE
 *       runs verify_access_token (system clock, leeway 30 s) and prints
 *       the verified claims as JSON; on failure prints the error code name
 *       and exits 1.
 * Usage errors exit 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "jws.h"
#include "verify.h"

#define INTEROP_MAX_FILE 1048576

static char *
read_file(const char *path, size_t *len, struct err *e)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;

	*len = 0;
	if (f == NULL) {
		err_set(e, ERR_IO, "%s: cannot open", path);
		return NULL;
	}
	if ((buf = malloc(INTEROP_MAX_FILE + 1)) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
	} else {
		*len = fread(buf, 1, INTEROP_MAX_FILE, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

static int
cmd_sign(const char *key_path, const char *payload_path, struct err *e)
{
	struct json_object *payload = NULL;
	struct jws_key *k = NULL;
	char *text = NULL, *token = NULL;
	size_t len;
	int rc = -1;

	if ((k = jwk_load_private_pem(key_path, e)) == NULL ||
	    (text = read_file(payload_path, &len, e)) == NULL ||
	    json_parse_strict(text, len, JSON_DEFAULT_MAX_DEPTH,
	        ERR_INVALID_REQUEST, &payload, e) == -1 ||
	    jws_sign(k, "at+jwt", payload, &token, e) == -1)
		goto out;
	printf("%s\n", token);
	rc = 0;
out:
	free(token);
	free(text);
	json_object_put(payload);
	jwk_free(k);
	return rc;
}

static struct jwks *
load_keys(const char *path, struct err *e)
{
	struct jwks *set = NULL;
	struct jws_key *k;
	size_t n = strlen(path), len;
	char *text;

	if (n > 5 && strcmp(path + n - 5, ".json") == 0) {
		if ((text = read_file(path, &len, e)) != NULL)
			set = jwks_from_json_text(text, len, e);
		free(text);
		return set;
	}
	if ((k = jwk_load_public_pem(path, e)) == NULL)
		return NULL;
	if ((set = jwks_new()) == NULL || jwks_add(set, k, e) == -1) {
		if (set == NULL)
			jwk_free(k);
		jwks_free(set);
		return NULL;
	}
	return set;
}

static struct json_object *
str_json(const struct verify_str *s)
{
	return s->s != NULL ? json_object_new_string_len(s->s, (int)s->len)
	                    : NULL;
}

static struct json_object *
strs_json(const struct verify_str *v, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, str_json(&v[i]));
	return arr;
}

static int
cmd_verify(const char *keys_path, const char *token, const char *iss,
    const char *aud, struct err *e)
{
	struct verify_policy p = {
		.issuer = iss, .audience = aud, .leeway = CLAIMS_DEFAULT_LEEWAY
	};
	struct access_token *at = NULL;
	struct json_object *out = NULL;
	struct jwks *set;
	int rc = -1;

	if ((set = load_keys(keys_path, e)) == NULL)
		return -1;
	p.keys = set;
	if (verify_access_token(token, strlen(token), &p, &at, e) == -1)
		goto out;
	out = json_object_new_object();
	json_object_object_add(out, "sub", str_json(&at->sub));
	json_object_object_add(out, "username", str_json(&at->username));
	json_object_object_add(out, "jti", str_json(&at->jti));
	json_object_object_add(out, "client_id", str_json(&at->client_id));
	json_object_object_add(out, "kid", str_json(&at->kid));
	json_object_object_add(out, "roles", strs_json(at->roles, at->n_roles));
	json_object_object_add(
	    out, "permissions", strs_json(at->permissions, at->n_permissions));
	json_object_object_add(out, "exp", json_object_new_int64(at->exp));
	printf("%s\n",
	    json_object_to_json_string_ext(
	        out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	rc = 0;
out:
	json_object_put(out);
	access_token_free(at);
	jwks_free(set);
	return rc;
}

int
main(int argc, char **argv)
{
	struct err e = { 0 };
	int rc;

	if (argc == 4 && strcmp(argv[1], "sign") == 0)
		rc = cmd_sign(argv[2], argv[3], &e);
	else if (argc == 6 && strcmp(argv[1], "verify") == 0)
		rc = cmd_verify(argv[2], argv[3], argv[4], argv[5], &e);
	else {
		fprintf(stderr, "usage: jwt-interop sign KEY.pem PAYLOAD.json\n"
		                "       jwt-interop verify PUB.pem|JWKS.json "
		                "TOKEN ISSUER AUDIENCE\n");
		return 2;
	}
	if (rc == -1) {
		printf("%s\n", err_code_name(e.code));
		fprintf(stderr, "jwt-interop: %s\n", e.msg);
		return 1;
	}
	return 0;
}
