/* jwks: a JWK Set (RFC 7517 section 5) and the JSON import of single JWKs.
 * A set is shared between the thread that replaces it (the key source) and
 * the workers verifying with it, so its lifetime is an atomic reference
 * count; the keys inside never change once the set is published. */
#include "jwks.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "b64url.h"
#include "json_util.h"
#include "log.h"

#define JWK_RSA_MAX_E_BITS 64 /* as jwk.c accepts */
#define JWK_P256_COORD_LEN 32 /* RFC 7518 section 6.2.1.2 */
#define JWK_ED25519_LEN 32    /* RFC 8037 section 2 */
#define JWKS_MAX_DEPTH 8

/* The last OpenSSL reason, for the log; the queue is cleared. */
static const char *
jwks_ossl_reason(void)
{
	unsigned long code = ERR_peek_last_error();
	const char *r = code != 0 ? ERR_reason_error_string(code) : NULL;

	ERR_clear_error();
	return r != NULL ? r : "no detail";
}

static bool
jwk_str_is(struct json_object *v, const char *want)
{
	return json_string_equals(v, want, strlen(want));
}

/* A required base64url member of a JWK, decoded. */
static int
jwk_get_b64(struct json_object *jwk, const char *name, unsigned char **out,
    size_t *len, struct err *e)
{
	struct json_object *v = NULL;
	struct err inner = { 0 };

	*out = NULL;
	*len = 0;
	if (!json_object_object_get_ex(jwk, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return err_set(
		    e, ERR_KEY, "jwk: \"%s\" missing or not a string", name);
	if (b64url_decode(json_object_get_string(v),
	        (size_t)json_object_get_string_len(v), out, len, &inner) == -1)
		return err_set(e, inner.code == ERR_NOMEM ? ERR_NOMEM : ERR_KEY,
		    "jwk: \"%s\" is not canonical base64url", name);
	return 0;
}

static bool
jwk_member_is(struct json_object *jwk, const char *name, const char *want)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(jwk, name, &v) && jwk_str_is(v, want);
}

/* The public key from an OSSL_PARAM list: EVP_PKEY_fromdata with the public
 * selection only, so private members can never slip in. */
static EVP_PKEY *
jwk_fromdata(const char *type, OSSL_PARAM_BLD *bld, struct err *e)
{
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL) {
		err_set(e, ERR_NOMEM, "jwk: out of memory");
		goto out;
	}
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		err_set(e, ERR_KEY, "jwk: not a valid %s public key (%s)", type,
		    jwks_ossl_reason());
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

/* RFC 7518 section 6.3.1. */
static EVP_PKEY *
jwk_rsa_from_json(struct json_object *jwk, struct err *e)
{
	unsigned char *n = NULL, *pub_e = NULL;
	size_t nlen = 0, elen = 0;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	if (jwk_get_b64(jwk, "n", &n, &nlen, e) == -1 ||
	    jwk_get_b64(jwk, "e", &pub_e, &elen, e) == -1)
		goto out;
	/* RFC 7518 6.3.1.1: n without leading zero octets; the same holds
	 * for e (6.3.1.2). A zero-led spelling would be a second JWK, and a
	 * second thumbprint, for the same key. */
	if (nlen == 0 || n[0] == 0 || elen == 0 || pub_e[0] == 0) {
		err_set(
		    e, ERR_KEY, "jwk: RSA \"n\" or \"e\" empty or zero-led");
		goto out;
	}
	if (nlen > JWK_RSA_MAX_BITS / 8 || elen > JWK_RSA_MAX_E_BITS / 8) {
		err_set(e, ERR_KEY, "jwk: RSA \"n\" or \"e\" too long");
		goto out;
	}
	if ((bn_n = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (bn_e = BN_bin2bn(pub_e, (int)elen, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1) {
		err_set(e, ERR_NOMEM, "jwk: out of memory");
		goto out;
	}
	pkey = jwk_fromdata("RSA", bld, e);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	free(n);
	free(pub_e);
	return pkey;
}

/* RFC 7518 section 6.2.1: crv P-256, x and y of exactly 32 octets. */
static EVP_PKEY *
jwk_ec_from_json(struct json_object *jwk, struct err *e)
{
	unsigned char *x = NULL, *y = NULL;
	unsigned char point[1 + 2 * JWK_P256_COORD_LEN];
	size_t xlen = 0, ylen = 0;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	if (!jwk_member_is(jwk, "crv", "P-256")) {
		err_set(e, ERR_KEY, "jwk: EC key not on P-256");
		goto out;
	}
	if (jwk_get_b64(jwk, "x", &x, &xlen, e) == -1 ||
	    jwk_get_b64(jwk, "y", &y, &ylen, e) == -1)
		goto out;
	if (xlen != JWK_P256_COORD_LEN || ylen != JWK_P256_COORD_LEN) {
		err_set(e, ERR_KEY,
		    "jwk: P-256 \"x\" and \"y\" must be %d "
		    "octets each",
		    JWK_P256_COORD_LEN);
		goto out;
	}
	/* The uncompressed SEC 1 point (section 2.3.3): 04 || x || y. OpenSSL
	 * refuses a point that is not on the curve when decoding it. */
	point[0] = 0x04;
	memcpy(point + 1, x, JWK_P256_COORD_LEN);
	memcpy(point + 1 + JWK_P256_COORD_LEN, y, JWK_P256_COORD_LEN);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(
	        bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(
	        bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) != 1) {
		err_set(e, ERR_NOMEM, "jwk: out of memory");
		goto out;
	}
	pkey = jwk_fromdata("EC", bld, e);
out:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return pkey;
}

/* RFC 8037 section 2: crv Ed25519, x of 32 octets. */
static EVP_PKEY *
jwk_okp_from_json(struct json_object *jwk, struct err *e)
{
	unsigned char *x = NULL;
	size_t xlen = 0;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	if (!jwk_member_is(jwk, "crv", "Ed25519")) {
		err_set(e, ERR_KEY, "jwk: OKP key is not Ed25519");
		goto out;
	}
	if (jwk_get_b64(jwk, "x", &x, &xlen, e) == -1)
		goto out;
	if (xlen != JWK_ED25519_LEN) {
		err_set(e, ERR_KEY, "jwk: Ed25519 \"x\" must be %d octets",
		    JWK_ED25519_LEN);
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_octet_string(
	        bld, OSSL_PKEY_PARAM_PUB_KEY, x, xlen) != 1) {
		err_set(e, ERR_NOMEM, "jwk: out of memory");
		goto out;
	}
	pkey = jwk_fromdata("ED25519", bld, e);
out:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	return pkey;
}

/* RFC 7517 section 4.2 "use" and 4.3 "key_ops": the key must be meant for
 * verifying signatures, if the JWK says anything about it. */
static int
jwk_check_usage(struct json_object *jwk, struct err *e)
{
	struct json_object *v = NULL;
	size_t n;

	if (json_object_object_get_ex(jwk, "use", &v) && !jwk_str_is(v, "sig"))
		return err_set(e, ERR_KEY, "jwk: \"use\" is not \"sig\"");
	if (!json_object_object_get_ex(jwk, "key_ops", &v))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return err_set(e, ERR_KEY, "jwk: \"key_ops\" is not an array");
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++)
		if (jwk_str_is(json_object_array_get_idx(v, i), "verify"))
			return 0;
	return err_set(e, ERR_KEY, "jwk: \"key_ops\" lacks \"verify\"");
}

/* RFC 7517 section 4.5: the issuer chooses kids; kept as given but bounded
 * and free of NUL, so it stays a C string and fits struct jws_key. */
static int
jwk_take_kid(struct json_object *jwk, struct jws_key *k, struct err *e)
{
	struct json_object *v = NULL;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(jwk, "kid", &v))
		return 0; /* the thumbprint stays */
	if (!json_object_is_type(v, json_type_string))
		return err_set(e, ERR_KEY, "jwk: \"kid\" is not a string");
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > JWK_KID_MAX || memchr(s, '\0', len) != NULL)
		return err_set(e, ERR_KEY,
		    "jwk: \"kid\" must be 1..%d bytes without NUL",
		    JWK_KID_MAX);
	memcpy(k->kid, s, len);
	k->kid[len] = '\0';
	return 0;
}

struct jws_key *
jwk_from_json(struct json_object *jwk, struct err *e)
{
	struct json_object *v = NULL;
	struct jws_key *k = NULL;
	EVP_PKEY *pkey = NULL;

	if (!json_object_is_type(jwk, json_type_object)) {
		err_set(e, ERR_KEY, "jwk: not an object");
		return NULL;
	}
	if (jwk_check_usage(jwk, e) == -1)
		return NULL;
	if (!json_object_object_get_ex(jwk, "kty", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		err_set(e, ERR_KEY, "jwk: \"kty\" missing or not a string");
		return NULL;
	}
	if (jwk_str_is(v, "RSA"))
		pkey = jwk_rsa_from_json(jwk, e);
	else if (jwk_str_is(v, "EC"))
		pkey = jwk_ec_from_json(jwk, e);
	else if (jwk_str_is(v, "OKP"))
		pkey = jwk_okp_from_json(jwk, e);
	else
		err_set(e, ERR_KEY, "jwk: kty \"%.16s\" is not supported",
		    json_object_get_string(v));
	if (pkey == NULL || (k = jwk_from_pkey(pkey, e)) == NULL)
		return NULL;
	/* Only the public selection was imported, whatever the JWK held. */
	k->has_private = false;
	/* RFC 7517 section 4.4: an alg, if given, must be the key's. */
	if (json_object_object_get_ex(jwk, "alg", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	        jws_alg_from_name(json_object_get_string(v),
	            (size_t)json_object_get_string_len(v)) != k->alg)) {
		err_set(
		    e, ERR_KEY, "jwk: \"alg\" is not %s", jws_alg_name(k->alg));
		jwk_free(k);
		return NULL;
	}
	if (jwk_take_kid(jwk, k, e) == -1) {
		jwk_free(k);
		return NULL;
	}
	return k;
}

struct jwks *
jwks_new(void)
{
	struct jwks *set = calloc(1, sizeof(*set));

	if (set != NULL)
		set->refs = 1;
	return set;
}

int
jwks_add(struct jwks *set, struct jws_key *k, struct err *e)
{
	struct jws_key **keys;
	size_t cap;

	if (set == NULL || k == NULL) {
		jwk_free(k);
		return err_set(e, ERR_INTERNAL, "jwks_add: no set or key");
	}
	/* RFC 7517 section 4.5: kids tell keys apart; with two equal ones a
	 * token could not say which key it means. */
	if (jwks_find(set, k->kid, strlen(k->kid)) != NULL) {
		err_set(e, ERR_KEY, "jwks: kid \"%s\" is already in the set",
		    k->kid);
		jwk_free(k);
		return -1;
	}
	if (set->n == set->cap) {
		cap = set->cap == 0 ? 4 : set->cap * 2;
		if ((keys = realloc(
		         set->keys, cap * sizeof(struct jws_key *))) == NULL) {
			jwk_free(k);
			return err_set(e, ERR_NOMEM, "jwks: out of memory");
		}
		set->keys = keys;
		set->cap = cap;
	}
	set->keys[set->n++] = k;
	return 0;
}

struct jwks *
jwks_retain(struct jwks *set)
{
	/* Relaxed is enough to take a reference: the caller already holds
	 * one, so the set cannot go away meanwhile. */
	if (set != NULL)
		__atomic_add_fetch(&set->refs, 1, __ATOMIC_RELAXED);
	return set;
}

void
jwks_free(struct jwks *set)
{
	if (set == NULL)
		return;
	/* Release on every drop, acquire on the last: whatever another
	 * thread did with the keys happens before they are freed. */
	if (__atomic_sub_fetch(&set->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < set->n; i++)
		jwk_free(set->keys[i]);
	free(set->keys);
	free(set);
}

const struct jws_key *
jwks_find(const struct jwks *set, const char *kid, size_t kidlen)
{
	if (set == NULL || kid == NULL)
		return NULL;
	/* Lengths first: "abc\0x" from a token never matches kid "abc". */
	for (size_t i = 0; i < set->n; i++) {
		const struct jws_key *k = set->keys[i];

		if (strlen(k->kid) == kidlen &&
		    memcmp(k->kid, kid, kidlen) == 0)
			return k;
	}
	return NULL;
}

struct json_object *
jwks_to_json(const struct jwks *set)
{
	struct json_object *root = NULL, *keys = NULL, *jwk;
	bool ok;

	if (set == NULL || (root = json_object_new_object()) == NULL)
		return NULL;
	/* RFC 7517 section 5: {"keys":[...]}; root owns keys once added. */
	ok = (keys = json_object_new_array()) != NULL &&
	     json_object_object_add(root, "keys", keys) == 0;
	for (size_t i = 0; ok && i < set->n; i++) {
		if ((jwk = jwk_to_json(set->keys[i])) == NULL)
			ok = false;
		else if (json_object_array_add(keys, jwk) != 0) {
			json_object_put(jwk);
			ok = false;
		}
	}
	if (!ok) {
		json_object_put(root);
		root = NULL;
	}
	return root;
}

/* RFC 7517 section 4.5: within a set a kid names one key. Two different
 * keys under one kid leave a token's kid ambiguous, and whichever key a
 * reader picked, another reader could pick the other: every key with that
 * kid is left out. The same key published twice is only kept once. */
static bool
jwks_kid_ambiguous(struct jws_key *const *keys, size_t n, size_t i)
{
	for (size_t j = 0; j < n; j++)
		if (j != i && keys[j] != NULL &&
		    strcmp(keys[j]->kid, keys[i]->kid) == 0 &&
		    EVP_PKEY_eq(keys[j]->pkey, keys[i]->pkey) != 1)
			return true;
	return false;
}

struct jwks *
jwks_from_json_text(const char *buf, size_t len, struct err *e)
{
	struct json_object *root = NULL, *keys = NULL;
	struct jwks *set = NULL, *result = NULL;
	struct jws_key *found[JWKS_MAX_KEYS] = { NULL };
	bool ambiguous[JWKS_MAX_KEYS] = { false };
	struct jws_key *k;
	size_t n, nfound = 0;

	if (json_parse_strict(buf, len, JWKS_MAX_DEPTH, ERR_KEY, &root, e) ==
	    -1)
		goto out;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		err_set(e, ERR_KEY,
		    "jwks: no \"keys\" array (RFC 7517 "
		    "section 5)");
		goto out;
	}
	if ((n = json_object_array_length(keys)) > JWKS_MAX_KEYS) {
		err_set(e, ERR_KEY, "jwks: %zu keys, at most %d are accepted",
		    n, JWKS_MAX_KEYS);
		goto out;
	}
	if ((set = jwks_new()) == NULL) {
		err_set(e, ERR_NOMEM, "jwks: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct err skip = { 0 };

		/* RFC 7517 section 5: keys we cannot use are ignored, so an
		 * issuer may publish other kinds next to ours. */
		if ((k = jwk_from_json(
		         json_object_array_get_idx(keys, i), &skip)) != NULL) {
			found[nfound++] = k;
			continue;
		}
		if (skip.code == ERR_NOMEM) {
			err_set(e, ERR_NOMEM, "%s", skip.msg);
			goto out;
		}
		log_msg(LOG_DEBUG, "jwks: key %zu skipped: %s", i, skip.msg);
	}
	for (size_t i = 0; i < nfound; i++)
		ambiguous[i] = jwks_kid_ambiguous(found, nfound, i);
	for (size_t i = 0; i < nfound; i++) {
		struct err skip = { 0 };

		if (ambiguous[i]) {
			log_msg(LOG_WARN,
			    "jwks: kid \"%s\" names different keys; every "
			    "key with it is ignored",
			    found[i]->kid);
			jwk_free(found[i]);
			found[i] = NULL;
			continue;
		}
		k = found[i];
		found[i] = NULL; /* jwks_add owns it, even on failure */
		if (jwks_add(set, k, &skip) == -1) {
			if (skip.code == ERR_NOMEM) {
				err_set(e, ERR_NOMEM, "%s", skip.msg);
				goto out;
			}
			/* The same key again under the same kid. */
			log_msg(LOG_DEBUG, "jwks: key skipped: %s", skip.msg);
		}
	}
	if (set->n == 0) {
		err_set(e, ERR_KEY, "jwks: no usable key among %zu", n);
		goto out;
	}
	result = set;
	set = NULL;
out:
	for (size_t i = 0; i < nfound; i++)
		jwk_free(found[i]);
	jwks_free(set);
	json_object_put(root);
	return result;
}
