/* verify: the one verification policy of the pair. A token is accepted only
 * after, in this order: the JWS (key by kid, the key's own algorithm), the
 * typ (RFC 9068 section 2.1), the registered claims (RFC 7519 section 4.1,
 * RFC 9068 section 4), and the claims this service needs (sub, permissions
 * and the optional ones). Strings are copied with their lengths, so an
 * embedded NUL is kept and can never shorten a permission. */
#include "verify.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jws.h"

static void
verify_str_clear(struct verify_str *s)
{
	free(s->s);
	*s = (struct verify_str){ 0 };
}

static int
verify_str_copy(
    struct verify_str *dst, const char *s, size_t len, struct err *e)
{
	if ((dst->s = malloc(len + 1)) == NULL)
		return err_set(e, ERR_NOMEM, "verify: out of memory");
	memcpy(dst->s, s, len);
	dst->s[len] = '\0';
	dst->len = len;
	return 0;
}

/* A copy of a read string: decoded straight into the copy. */
static int
verify_str_read(struct verify_str *dst, const struct jose_str *s, struct err *e)
{
	if ((dst->s = malloc(s->dec_len + 1)) == NULL)
		return err_set(e, ERR_NOMEM, "verify: out of memory");
	dst->len = jose_str_decode(s, dst->s);
	dst->s[dst->len] = '\0';
	return 0;
}

/* A string claim: a required one must exist; an optional one may be
 * absent, but never of another type. */
static int
verify_claim_string(const struct jose_val *v, const char *name, bool required,
    struct verify_str *dst, struct err *e)
{
	if (v->type == JOSE_ABSENT) {
		if (required)
			return err_set(
			    e, ERR_TOKEN_CLAIMS, "claim \"%s\" missing", name);
		return 0;
	}
	if (v->type != JOSE_STRING)
		return err_set(
		    e, ERR_TOKEN_CLAIMS, "claim \"%s\": not a string", name);
	return verify_str_read(dst, &v->str, e);
}

/* An array of strings, every element checked: one number in the list makes
 * the whole token suspect rather than silently shorter. */
static int
verify_claim_strings(const struct jose_val *v, const char *name, bool required,
    struct verify_str **dst, size_t *n, struct err *e)
{
	struct jose_iter it;
	struct jose_str s;

	*dst = NULL;
	*n = 0;
	if (v->type == JOSE_ABSENT) {
		if (required)
			return err_set(
			    e, ERR_TOKEN_CLAIMS, "claim \"%s\" missing", name);
		return 0;
	}
	if (v->type != JOSE_ARRAY)
		return err_set(
		    e, ERR_TOKEN_CLAIMS, "claim \"%s\": not an array", name);
	if (v->n == 0)
		return 0;
	if (v->first_non_string < v->n)
		return err_set(e, ERR_TOKEN_CLAIMS,
		    "claim \"%s\": element %zu is not a string", name,
		    v->first_non_string);
	if ((*dst = calloc(v->n, sizeof(**dst))) == NULL)
		return err_set(e, ERR_NOMEM, "verify: out of memory");
	jose_iter_init(v, &it);
	while (*n < v->n && jose_iter_next(&it, &s)) {
		if (verify_str_read(&(*dst)[*n], &s, e) == -1)
			return -1;
		(*n)++; /* counts what access_token_free must release */
	}
	return 0;
}

static int
verify_claims(const struct jose_claims *jc, const struct jws_key *key,
    struct access_token *t, struct err *e)
{
	/* RFC 9068 section 2.2: sub, client_id and jti are required (and so
	 * iat, checked by the caller); an empty one names nothing and is
	 * refused rather than matched against anything. */
	if (verify_claim_string(&jc->sub, "sub", true, &t->sub, e) == -1)
		return -1;
	if (t->sub.len == 0)
		return err_set(e, ERR_TOKEN_CLAIMS, "claim \"sub\" is empty");
	if (verify_claim_strings(&jc->permissions, "permissions", true,
	        &t->permissions, &t->n_permissions, e) == -1 ||
	    verify_claim_strings(
	        &jc->roles, "roles", false, &t->roles, &t->n_roles, e) == -1 ||
	    verify_claim_string(
	        &jc->username, "username", false, &t->username, e) == -1 ||
	    verify_claim_string(&jc->jti, "jti", true, &t->jti, e) == -1 ||
	    verify_claim_string(
	        &jc->client_id, "client_id", true, &t->client_id, e) == -1)
		return -1;
	if (t->jti.len == 0 || t->client_id.len == 0)
		return err_set(
		    e, ERR_TOKEN_CLAIMS, "jti or client_id is empty");
	return verify_str_copy(&t->kid, key->kid, strlen(key->kid), e);
}

int
verify_access_token(const char *token, size_t len,
    const struct verify_policy *p, struct access_token **out, struct err *e)
{
	/* The decoded parts live here, on the stack: with jose_reader
	 * nothing but the result is allocated. */
	struct jws_decoded d;
	const struct jws_key *key = NULL;
	struct access_token *t = NULL;
	struct claims_policy cp;
	struct claims c = { 0 };
	int rc = -1;

	*out = NULL;
	if (p == NULL || p->keys == NULL) {
		err_set(e, ERR_INTERNAL, "verify: policy without keys");
		goto out;
	}
	cp = (struct claims_policy){ .issuer = p->issuer,
		.audience = p->audience,
		.leeway = p->leeway };
	if (jws_verify_read(token, len, p->keys, &d, &key, e) == -1 ||
	    claims_check_typ_read(&d.h, e) == -1 ||
	    claims_parse_read(&d.claims, &c, e) == -1 ||
	    claims_check(&c, &cp, verify_now(p), e) == -1)
		goto out;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		err_set(e, ERR_NOMEM, "verify: out of memory");
		goto out;
	}
	/* After the time checks, so an expired token is told it expired.
	 * exp before iat is not refused as such: each is checked against
	 * the clock with the leeway, which is what RFC 7519 asks. */
	if (!c.has_iat) {
		err_set(e, ERR_TOKEN_CLAIMS, "claim \"iat\" missing");
		goto out;
	}
	if (verify_claims(&d.claims, key, t, e) == -1)
		goto out;
	t->exp = c.exp;
	t->nbf = c.has_nbf ? c.nbf : 0;
	t->iat = c.iat;
	*out = t;
	t = NULL;
	rc = 0;
out:
	access_token_free(t);
	return rc;
}

void
access_token_free(struct access_token *t)
{
	if (t == NULL)
		return;
	verify_str_clear(&t->sub);
	verify_str_clear(&t->username);
	verify_str_clear(&t->jti);
	verify_str_clear(&t->client_id);
	verify_str_clear(&t->kid);
	for (size_t i = 0; i < t->n_roles; i++)
		verify_str_clear(&t->roles[i]);
	free(t->roles);
	for (size_t i = 0; i < t->n_permissions; i++)
		verify_str_clear(&t->permissions[i]);
	free(t->permissions);
	free(t);
}

bool
access_token_has_permission(
    const struct access_token *t, const char *perm, size_t len)
{
	if (t == NULL || perm == NULL)
		return false;
	/* Exact and length-aware: no prefix, no case folding, no wildcard.
	 * Permissions are not secrets, so memcmp's timing reveals nothing. */
	for (size_t i = 0; i < t->n_permissions; i++)
		if (t->permissions[i].len == len &&
		    memcmp(t->permissions[i].s, perm, len) == 0)
			return true;
	return false;
}

int64_t
verify_now(const struct verify_policy *p)
{
	if (p != NULL && p->now != NULL)
		return p->now(p->now_arg);
	return (int64_t)time(NULL);
}
