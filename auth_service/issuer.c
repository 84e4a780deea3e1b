/* issuer: builds every access token's claims and signs them. */
#include "issuer.h"

#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "json_util.h"
#include "jws.h"
#include "secret.h"

static int
add_int(struct json_object *o, const char *key, int64_t value)
{
	struct json_object *v = json_object_new_int64(value);

	if (v == NULL || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

static struct json_object *
string_array(const char *const *items, size_t n)
{
	struct json_object *arr = json_object_new_array();

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_new_string(items[i]);
		if (s == NULL || json_object_array_add(arr, s) != 0) {
			json_object_put(s);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

/* scope: the permissions space-separated (RFC 9068 2.2.3, RFC 6749 3.3).
 * A permission holding a space would be ambiguous here, so it is left out
 * of scope (it stays in "permissions"). */
static char *
scope_string(const char *const *perms, size_t n)
{
	size_t len = 1, o = 0;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(perms[i]) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(perms[i]);
		if (strchr(perms[i], ' ') != NULL)
			continue;
		if (o > 0)
			s[o++] = ' ';
		memcpy(s + o, perms[i], l);
		o += l;
	}
	s[o] = '\0';
	return s;
}

/* Adds name: value, taking value (also when it fails). */
static int
put(struct json_object *o, const char *name, struct json_object *value)
{
	if (value == NULL || json_object_object_add(o, name, value) != 0) {
		json_object_put(value);
		return -1;
	}
	return 0;
}

struct json_object *
issuer_claims(const struct issuer *is, const struct issuer_subject *s,
    const struct permissions *perms, int64_t now, int64_t ttl, struct err *e)
{
	struct json_object *claims = NULL;
	const char **granted = NULL;
	unsigned char raw[ISSUER_JTI_BYTES];
	char *jti = NULL, *scope = NULL;
	size_t n_granted = 0;

	if (perms != NULL && permissions_resolve(perms, s->roles, s->n_roles,
	                         &granted, &n_granted, e) == -1)
		return NULL;
	/* jti: 128 random bits, unique per token (RFC 9068 2.2). */
	secret_random(raw, sizeof(raw));
	if ((jti = b64url_encode(raw, sizeof(raw))) == NULL ||
	    (scope = scope_string(granted, n_granted)) == NULL ||
	    (claims = json_object_new_object()) == NULL ||
	    json_add_string(claims, "iss", is->issuer) == -1 ||
	    json_add_string(claims, "aud", is->audience) == -1 ||
	    json_add_string(claims, "sub", s->sub) == -1 ||
	    json_add_string(claims, "client_id", is->client_id) == -1 ||
	    add_int(claims, "iat", now) == -1 ||
	    add_int(claims, "nbf", now) == -1 ||
	    add_int(claims, "exp", now + ttl) == -1 ||
	    json_add_string(claims, "jti", jti) == -1 ||
	    json_add_string(claims, "username", s->username) == -1 ||
	    put(claims, "roles",
	        string_array((const char *const *)s->roles, s->n_roles)) ==
	        -1 ||
	    put(claims, "permissions", string_array(granted, n_granted)) ==
	        -1 ||
	    json_add_string(claims, "scope", scope) == -1) {
		err_set(e, ERR_NOMEM, "claims");
		json_object_put(claims);
		claims = NULL;
	}
	free(scope);
	free(jti);
	free(granted);
	return claims;
}

int
issuer_access_token(const struct issuer *is, const struct store_user *u,
    const struct permissions *perms, int64_t now, char **token,
    int64_t *expires_in, struct err *e)
{
	struct issuer_subject s = { u->sub, u->username, u->roles, u->n_roles };
	struct json_object *claims;
	int rc;

	*token = NULL;
	if ((claims = issuer_claims(is, &s, perms, now, is->access_ttl, e)) ==
	    NULL)
		return -1;
	rc = jws_sign(is->key, "at+jwt", claims, token, e);
	json_object_put(claims);
	*expires_in = is->access_ttl;
	return rc;
}

struct json_object *
issuer_token_reply(
    const char *access_token, const char *refresh_token, int64_t expires_in)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	if (json_add_string(o, "access_token", access_token) == -1 ||
	    json_add_string(o, "refresh_token", refresh_token) == -1 ||
	    json_add_string(o, "token_type", "Bearer") == -1 ||
	    add_int(o, "expires_in", expires_in) == -1) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
