/* issuer: builds every access token's claims and signs them. */
#include "issuer.h"

#include <stdbool.h>
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

/* Whether the space-separated list holds tok (RFC 6749 3.3). */
static bool
scope_has(const char *list, const char *tok)
{
	size_t n = strlen(tok);

	if (list == NULL)
		return false;
	while (*list != '\0') {
		size_t l = strcspn(list, " ");
		if (l == n && memcmp(list, tok, n) == 0)
			return true;
		list += l;
		while (*list == ' ')
			list++;
	}
	return false;
}

/* scope = scope-token *( SP scope-token ), scope-token = 1*( %x21 /
 * %x23-5B / %x5D-7E ) (RFC 6749 3.3). */
static bool
scope_well_formed(const char *s)
{
	bool in_token = false;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == ' ') {
			if (!in_token)
				return false;
			in_token = false;
		} else if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
			return false;
		} else {
			in_token = true;
		}
	}
	return in_token;
}

/* Narrows granted[0..*n) in place to what the grant's scope allows and
 * this request asks for. */
static int
narrow(const char **granted, size_t *n, const char *within, const char *scope,
    struct err *e)
{
	size_t kept = 0;

	if (within != NULL && *within != '\0') {
		for (size_t i = 0; i < *n; i++)
			if (scope_has(within, granted[i]))
				granted[kept++] = granted[i];
		*n = kept;
	}
	if (scope == NULL)
		return 0;
	if (!scope_well_formed(scope))
		return err_set(e, ERR_INVALID_SCOPE, "scope malformed");
	/* Every token asked for must be held: more is invalid_scope. */
	for (const char *p = scope; *p != '\0';) {
		size_t l = strcspn(p, " ");
		bool held = false;
		for (size_t i = 0; i < *n && !held; i++)
			held = strlen(granted[i]) == l &&
			       memcmp(granted[i], p, l) == 0;
		if (!held)
			return err_set(e, ERR_INVALID_SCOPE,
			    "scope asks for more than is held");
		p += l;
		while (*p == ' ')
			p++;
	}
	kept = 0;
	for (size_t i = 0; i < *n; i++)
		if (scope_has(scope, granted[i]))
			granted[kept++] = granted[i];
	*n = kept;
	return 0;
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

/* What s is granted now: the permissions of its roles in perms, narrowed
 * to the grant's and the request's scope. *granted is the caller's to
 * free (the array only). */
static int
grant(const struct issuer_subject *s, const struct permissions *perms,
    const char ***granted, size_t *n, struct err *e)
{
	*granted = NULL;
	*n = 0;
	if (perms != NULL && permissions_resolve(perms, s->roles, s->n_roles,
	                         granted, n, e) == -1)
		return -1;
	if (narrow(*granted, n, s->within, s->scope, e) == -1) {
		free(*granted);
		*granted = NULL;
		return -1;
	}
	return 0;
}

char *
issuer_scope(const struct issuer_subject *s, const struct permissions *perms,
    struct err *e)
{
	const char **granted;
	size_t n;
	char *scope;

	if (grant(s, perms, &granted, &n, e) == -1)
		return NULL;
	if ((scope = scope_string(granted, n)) == NULL)
		err_set(e, ERR_NOMEM, "scope");
	free(granted);
	return scope;
}

struct json_object *
issuer_claims(const struct issuer *is, const struct issuer_subject *s,
    const struct permissions *perms, int64_t now, int64_t ttl, struct err *e)
{
	struct json_object *claims = NULL;
	const char **granted;
	unsigned char raw[ISSUER_JTI_BYTES];
	char *jti = NULL, *scope = NULL;
	size_t n_granted;

	if (grant(s, perms, &granted, &n_granted, e) == -1)
		return NULL;
	/* jti: 128 random bits, unique per token (RFC 9068 2.2). */
	secret_random(raw, sizeof(raw));
	if ((jti = b64url_encode(raw, sizeof(raw))) == NULL ||
	    (scope = scope_string(granted, n_granted)) == NULL ||
	    (claims = json_object_new_object()) == NULL ||
	    json_add_string(claims, "iss", is->issuer) == -1 ||
	    json_add_string(claims, "aud", is->audience) == -1 ||
	    json_add_string(claims, "sub", s->sub) == -1 ||
	    json_add_string(claims, "client_id",
	        s->client_id != NULL ? s->client_id : is->client_id) == -1 ||
	    add_int(claims, "iat", now) == -1 ||
	    add_int(claims, "nbf", now) == -1 ||
	    add_int(claims, "exp", now + ttl) == -1 ||
	    json_add_string(claims, "jti", jti) == -1 ||
	    (s->username != NULL &&
	        json_add_string(claims, "username", s->username) == -1) ||
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
issuer_access_token(const struct issuer *is, const struct issuer_subject *s,
    const struct permissions *perms, int64_t now, int64_t ttl, char **token,
    char **scope, int64_t *expires_in, struct err *e)
{
	struct json_object *claims, *v;
	int rc;

	*token = NULL;
	if (scope != NULL)
		*scope = NULL;
	if (ttl <= 0)
		ttl = is->access_ttl;
	if ((claims = issuer_claims(is, s, perms, now, ttl, e)) == NULL)
		return -1;
	rc = jws_sign(is->key, "at+jwt", claims, token, e);
	if (rc == 0 && scope != NULL &&
	    json_object_object_get_ex(claims, "scope", &v) &&
	    (*scope = strdup(json_object_get_string(v))) == NULL) {
		rc = err_set(e, ERR_NOMEM, "scope");
		free(*token);
		*token = NULL;
	}
	json_object_put(claims);
	*expires_in = ttl;
	return rc;
}

struct json_object *
issuer_token_reply(const char *access_token, const char *refresh_token,
    int64_t expires_in, const char *scope)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	if (json_add_string(o, "access_token", access_token) == -1 ||
	    (refresh_token != NULL && refresh_token[0] != '\0' &&
	        json_add_string(o, "refresh_token", refresh_token) == -1) ||
	    json_add_string(o, "token_type", "Bearer") == -1 ||
	    add_int(o, "expires_in", expires_in) == -1 ||
	    (scope != NULL && json_add_string(o, "scope", scope) == -1)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
