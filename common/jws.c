/* jws: JWS compact serialization (RFC 7515 section 7.1), sign and verify,
 * for RS256, ES256 and EdDSA. The verifying key is chosen by kid and the
 * algorithm is that key's own (RFC 8725 section 3.1); the header only has
 * to agree. Verification runs on every request, so the token is never
 * copied: the signing input is the token's own prefix. jws_verify_read
 * (the verifier's path) decodes the three parts into the caller's memory
 * and reads them with jose_reader, allocating nothing; jws_verify gives
 * json-c trees for the tools. Both choose the key with one jws_pick_key. */
#include "jws.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "b64url.h"
#include "json_util.h"

#define ES256_COORD_LEN 32
#define ES256_SIG_LEN 64   /* r || s, RFC 7518 section 3.4 */
#define ED25519_SIG_LEN 64 /* RFC 8032 section 5.1.6 */

/* The order n of the P-256 base point (SEC 2 v2 section 2.4.2), big
 * endian: ECDSA values r and s lie in [1, n-1] (SEC 1 v2 section 4.1.4). */
static const unsigned char p256_order[ES256_COORD_LEN] = { 0xff, 0xff, 0xff,
	0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca,
	0xc2, 0xfc, 0x63, 0x25, 0x51 };

/* Header parameters that let a token pick its own key or change how it is
 * processed (RFC 8725 sections 2.1 and 3.10, RFC 7515 sections 4.1.2-4.1.6
 * and 4.1.11, RFC 7797 section 3): none has a use in an access token.
 * "zip" (RFC 7516 section 4.1.3) is defined for JWE only; in a JWS it would
 * ask for a decompression step this verifier never does, and compressed
 * claims invite size attacks (RFC 8725 section 3.6). */
static const struct {
	const char *name;
	size_t off; /* of its member in struct jose_header */
} jws_forbidden_headers[] = {
	{ "crit", offsetof(struct jose_header, crit) },
	{ "jku", offsetof(struct jose_header, jku) },
	{ "x5u", offsetof(struct jose_header, x5u) },
	{ "jwk", offsetof(struct jose_header, jwk) },
	{ "x5c", offsetof(struct jose_header, x5c) },
	{ "b64", offsetof(struct jose_header, b64) },
	{ "zip", offsetof(struct jose_header, zip) },
};

/* NULL digest for EdDSA: Ed25519 hashes internally (RFC 8032 5.1.6). */
static const char *
jws_md_name(enum jws_alg alg)
{
	return alg == JWS_ALG_EDDSA ? NULL : "SHA256";
}

static void
jws_ossl_clear(void)
{
	/* The error queue is per thread and would otherwise grow with every
	 * bad signature a client sends. */
	ERR_clear_error();
}

/* RS256 and ES256: SHA-256 of msg into digest, and a copy of one of the
 * key's templates. EVP_PKEY_CTX_dup only reads its (const) source, so
 * threads using one key at once never write to shared state; the copy is
 * the caller's own. The provider operation is the one EVP_DigestSign and
 * EVP_DigestVerify end in, without a fetch and an init per call. */
static EVP_PKEY_CTX *
jws_digest_ctx(const struct jws_key *key, const EVP_PKEY_CTX *tmpl,
    const unsigned char *msg, size_t msglen,
    unsigned char digest[EVP_MAX_MD_SIZE], unsigned int *dlen, struct err *e)
{
	EVP_PKEY_CTX *ctx = NULL;

	if (EVP_Digest(msg, msglen, digest, dlen, jws_key_sha256(), NULL) !=
	        1 ||
	    (ctx = EVP_PKEY_CTX_dup(tmpl)) == NULL) {
		jws_ossl_clear();
		err_set(e, ERR_INTERNAL, "jws: cannot set up %s",
		    jws_alg_name(key->alg));
	}
	return ctx;
}

/* A fresh digest-sign or digest-verify context for key. EVP_MD_CTX holds
 * per-operation state, so it is never shared between threads; the key
 * itself is read-only and shared. */
static EVP_MD_CTX *
jws_md_ctx(const struct jws_key *key, bool sign, struct err *e)
{
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		err_set(e, ERR_NOMEM, "jws: out of memory");
		return NULL;
	}
	if (sign)
		ok = EVP_DigestSignInit_ex(ctx, &pctx, jws_md_name(key->alg),
		    NULL, NULL, key->pkey, NULL);
	else
		ok = EVP_DigestVerifyInit_ex(ctx, &pctx, jws_md_name(key->alg),
		    NULL, NULL, key->pkey, NULL);
	/* RS256 is RSASSA-PKCS1-v1_5 (RFC 7518 section 3.3), never PSS:
	 * set it rather than rely on the default. */
	if (ok == 1 && key->alg == JWS_ALG_RS256)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
	if (ok != 1) {
		EVP_MD_CTX_free(ctx);
		jws_ossl_clear();
		err_set(e, ERR_INTERNAL, "jws: cannot set up %s",
		    jws_alg_name(key->alg));
		return NULL;
	}
	return ctx;
}

/* OpenSSL's ECDSA output is DER (SEC 1 / RFC 3279); JWS wants the two
 * integers as fixed 32-octet big-endian strings (RFC 7518 section 3.4). */
static int
es256_der_to_raw(const unsigned char *der, size_t derlen,
    unsigned char raw[ES256_SIG_LEN], struct err *e)
{
	const unsigned char *p = der;
	const BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG *sig;
	int rc = -1;

	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL ||
	    p != der + derlen) {
		err_set(e, ERR_INTERNAL, "ES256: bad DER from OpenSSL");
		goto out;
	}
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, ES256_COORD_LEN) != ES256_COORD_LEN ||
	    BN_bn2binpad(s, raw + ES256_COORD_LEN, ES256_COORD_LEN) !=
	        ES256_COORD_LEN) {
		err_set(e, ERR_INTERNAL, "ES256: r or s wider than 32 octets");
		goto out;
	}
	rc = 0;
out:
	ECDSA_SIG_free(sig);
	jws_ossl_clear();
	return rc;
}

/* r or s as 32 octets big endian: in [1, n-1]? Checked here, before any
 * OpenSSL call, so a zero or oversized value can never reach it. */
static bool
es256_scalar_ok(const unsigned char v[ES256_COORD_LEN])
{
	unsigned char any = 0;

	for (size_t i = 0; i < ES256_COORD_LEN; i++)
		any |= v[i];
	return any != 0 && memcmp(v, p256_order, ES256_COORD_LEN) < 0;
}

static int
es256_raw_to_der(const unsigned char raw[ES256_SIG_LEN], unsigned char **der,
    size_t *derlen, struct err *e)
{
	BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG *sig = NULL;
	int len, rc = -1;

	*der = NULL;
	*derlen = 0;
	if ((sig = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(raw, ES256_COORD_LEN, NULL)) == NULL ||
	    (s = BN_bin2bn(raw + ES256_COORD_LEN, ES256_COORD_LEN, NULL)) ==
	        NULL ||
	    ECDSA_SIG_set0(sig, r, s) != 1) {
		err_set(e, ERR_NOMEM, "ES256: out of memory");
		goto out;
	}
	r = s = NULL; /* owned by sig now */
	if ((len = i2d_ECDSA_SIG(sig, der)) <= 0) {
		*der = NULL;
		err_set(e, ERR_NOMEM, "ES256: DER encoding failed");
		goto out;
	}
	*derlen = (size_t)len;
	rc = 0;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	jws_ossl_clear();
	return rc;
}

int
jws_sign_raw(const struct jws_key *key, const unsigned char *msg, size_t msglen,
    unsigned char **sig, size_t *siglen, struct err *e)
{
	unsigned char *buf = NULL, digest[EVP_MAX_MD_SIZE];
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *ctx = NULL;
	unsigned int dlen = 0;
	size_t len;
	int max, ok, rc = -1;

	*sig = NULL;
	*siglen = 0;
	if (key == NULL || key->pkey == NULL || !key->has_private) {
		err_set(e, ERR_KEY, "jws: signing needs a private key");
		goto out;
	}
	if ((max = EVP_PKEY_get_size(key->pkey)) <= 0 ||
	    (buf = malloc((size_t)max)) == NULL) {
		err_set(e, ERR_NOMEM, "jws: out of memory");
		goto out;
	}
	len = (size_t)max;
	if (key->sign_template != NULL) {
		if ((pctx = jws_digest_ctx(key, key->sign_template, msg, msglen,
		         digest, &dlen, e)) == NULL)
			goto out;
		ok = EVP_PKEY_sign(pctx, buf, &len, digest, dlen);
	} else {
		if ((ctx = jws_md_ctx(key, true, e)) == NULL)
			goto out;
		ok = EVP_DigestSign(ctx, buf, &len, msg, msglen);
	}
	if (ok != 1) {
		jws_ossl_clear();
		err_set(e, ERR_INTERNAL, "jws: %s signing failed",
		    jws_alg_name(key->alg));
		goto out;
	}
	if (key->alg == JWS_ALG_ES256) {
		unsigned char raw[ES256_SIG_LEN];

		if (es256_der_to_raw(buf, len, raw, e) == -1)
			goto out;
		memcpy(buf, raw, ES256_SIG_LEN); /* max >= 70 > 64 */
		len = ES256_SIG_LEN;
	}
	*sig = buf;
	*siglen = len;
	buf = NULL;
	rc = 0;
out:
	EVP_PKEY_CTX_free(pctx);
	EVP_MD_CTX_free(ctx);
	free(buf);
	return rc;
}

int
jws_verify_raw(const struct jws_key *key, const unsigned char *msg,
    size_t msglen, const unsigned char *sig, size_t siglen, struct err *e)
{
	unsigned char *der = NULL, digest[EVP_MAX_MD_SIZE];
	const unsigned char *s = sig;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *ctx = NULL;
	unsigned int dlen = 0;
	size_t slen = siglen;
	int ok = 0, rc = -1;

	if (key == NULL || key->pkey == NULL)
		return err_set(e, ERR_INTERNAL, "jws: no key");
	switch (key->alg) {
	case JWS_ALG_RS256:
		/* RFC 8017 section 8.2.2 step 1: exactly k octets. OpenSSL
		 * would also take a shorter, zero-stripped spelling. */
		if (siglen != (size_t)EVP_PKEY_get_size(key->pkey))
			return err_set(e, ERR_TOKEN_SIGNATURE,
			    "RS256 signature of %zu octets, want %d", siglen,
			    EVP_PKEY_get_size(key->pkey));
		break;
	case JWS_ALG_ES256:
		if (siglen != ES256_SIG_LEN)
			return err_set(e, ERR_TOKEN_SIGNATURE,
			    "ES256 signature of %zu octets, want 64 (r||s, RFC "
			    "7518 section 3.4)",
			    siglen);
		if (!es256_scalar_ok(sig) ||
		    !es256_scalar_ok(sig + ES256_COORD_LEN))
			return err_set(e, ERR_TOKEN_SIGNATURE,
			    "ES256 r or s out of range [1, n-1]");
		if (es256_raw_to_der(sig, &der, &slen, e) == -1)
			goto out;
		s = der;
		break;
	case JWS_ALG_EDDSA:
		if (siglen != ED25519_SIG_LEN)
			return err_set(e, ERR_TOKEN_SIGNATURE,
			    "EdDSA signature of %zu octets, want 64", siglen);
		break;
	default:
		return err_set(e, ERR_INTERNAL, "jws: key without algorithm");
	}
	if (key->verify_template != NULL) {
		if ((pctx = jws_digest_ctx(key, key->verify_template, msg,
		         msglen, digest, &dlen, e)) == NULL)
			goto out;
		ok = EVP_PKEY_verify(pctx, s, slen, digest, dlen);
	} else {
		if ((ctx = jws_md_ctx(key, false, e)) == NULL)
			goto out;
		ok = EVP_DigestVerify(ctx, s, slen, msg, msglen);
	}
	if (ok != 1) {
		/* 0 is a wrong signature; < 0 a malformed one. Either way the
		 * token is refused, and the caller learns nothing more. */
		jws_ossl_clear();
		err_set(e, ERR_TOKEN_SIGNATURE, "%s signature does not verify",
		    jws_alg_name(key->alg));
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_CTX_free(pctx);
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return rc;
}

/* Serializes obj without whitespace or escaped slashes. Borrowed from obj. */
static const char *
jws_json_text(struct json_object *obj, size_t *len)
{
	const char *s;

	s = json_object_to_json_string_length(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
	return s;
}

static struct json_object *
jws_header_new(const struct jws_key *key, const char *typ)
{
	struct json_object *h = json_object_new_object();
	bool ok = h != NULL;

	/* RFC 7515 4.1.1 alg, 4.1.9 typ (RFC 9068 section 2.1), 4.1.4 kid. */
	ok = ok && json_add_string(h, "alg", jws_alg_name(key->alg)) == 0;
	if (ok && typ != NULL)
		ok = json_add_string(h, "typ", typ) == 0;
	ok = ok && json_add_string(h, "kid", key->kid) == 0;
	if (!ok) {
		json_object_put(h);
		h = NULL;
	}
	return h;
}

int
jws_sign(const struct jws_key *key, const char *typ,
    struct json_object *payload, char **out, struct err *e)
{
	struct json_object *header = NULL;
	char *h64 = NULL, *p64 = NULL, *s64 = NULL, *token = NULL;
	unsigned char *sig = NULL;
	const char *text;
	size_t len, hlen, plen, slen, cap, siglen = 0;
	int rc = -1;

	*out = NULL;
	if (key == NULL || jws_alg_name(key->alg) == NULL) {
		err_set(e, ERR_INTERNAL, "jws_sign: no usable key");
		goto out;
	}
	if (!json_object_is_type(payload, json_type_object)) {
		err_set(e, ERR_INTERNAL, "jws_sign: payload is not an object");
		goto out;
	}
	if ((header = jws_header_new(key, typ)) == NULL ||
	    (text = jws_json_text(header, &len)) == NULL) {
		err_set(e, ERR_NOMEM, "jws: out of memory");
		goto out;
	}
	if (len > JWT_MAX_HEADER_LEN) {
		err_set(
		    e, ERR_INTERNAL, "jws: header of %zu bytes too long", len);
		goto out;
	}
	if ((h64 = b64url_encode(text, len)) == NULL ||
	    (text = jws_json_text(payload, &len)) == NULL ||
	    (p64 = b64url_encode(text, len)) == NULL) {
		err_set(e, ERR_NOMEM, "jws: out of memory");
		goto out;
	}
	hlen = strlen(h64);
	plen = strlen(p64);
	/* One buffer for the whole token: the signing input is signed in
	 * place and the signature appended. EVP_PKEY_get_size bounds every
	 * signature of the key (the raw ES256 form is shorter than DER). */
	cap = hlen + 1 + plen + 1 +
	      b64url_encoded_len((size_t)EVP_PKEY_get_size(key->pkey)) + 1;
	if ((token = malloc(cap)) == NULL) {
		err_set(e, ERR_NOMEM, "jws: out of memory");
		goto out;
	}
	memcpy(token, h64, hlen);
	token[hlen] = '.';
	memcpy(token + hlen + 1, p64, plen);
	if (jws_sign_raw(key, (const unsigned char *)token, hlen + 1 + plen,
	        &sig, &siglen, e) == -1)
		goto out;
	if ((s64 = b64url_encode(sig, siglen)) == NULL) {
		err_set(e, ERR_NOMEM, "jws: out of memory");
		goto out;
	}
	slen = strlen(s64);
	if (hlen + 1 + plen + 1 + slen + 1 > cap) {
		err_set(e, ERR_INTERNAL, "jws: signature longer than the key");
		goto out;
	}
	/* The verifier's bound: a token we could not verify is a bug. */
	if (hlen + plen + slen + 2 > JWT_MAX_TOKEN_LEN) {
		err_set(e, ERR_INTERNAL, "jws: token of %zu bytes too long",
		    hlen + plen + slen + 2);
		goto out;
	}
	token[hlen + 1 + plen] = '.';
	memcpy(token + hlen + 1 + plen + 1, s64, slen + 1);
	*out = token;
	token = NULL;
	rc = 0;
out:
	free(token);
	free(sig);
	free(s64);
	free(p64);
	free(h64);
	json_object_put(header);
	return rc;
}

/* One part of a compact JWS, decoded and parsed as a JSON object. */
static int
jws_part_object(const char *b64, size_t len, size_t max,
    struct json_object **out, struct err *e)
{
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	int rc = -1;

	*out = NULL;
	if (len == 0) {
		err_set(e, ERR_TOKEN_MALFORMED, "jws: empty part");
		goto out;
	}
	/* Checked before decoding, so an oversized part costs nothing. */
	if (len > b64url_encoded_len(max)) {
		err_set(e, ERR_TOKEN_MALFORMED, "jws: part too long");
		goto out;
	}
	if (b64url_decode(b64, len, &raw, &rawlen, e) == -1 ||
	    json_parse_strict((const char *)raw, rawlen, JSON_DEFAULT_MAX_DEPTH,
	        ERR_TOKEN_MALFORMED, out, e) == -1)
		goto out;
	/* RFC 7515 section 4 (header), RFC 7519 section 7.2 step 10
	 * (claims): both are JSON objects. */
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		err_set(e, ERR_TOKEN_MALFORMED, "jws: part is not an object");
		goto out;
	}
	rc = 0;
out:
	free(raw);
	return rc;
}

/* The json-c tree's header members as jose_reader gives them: json-c's
 * strings are already decoded, so each is a plain slice. Only the
 * members' presence and strings matter to jws_pick_key. */
static void
jws_header_of_json(struct json_object *o, struct jose_header *h)
{
	static const struct {
		const char *name;
		size_t off;
	} members[] = {
		{ "alg", offsetof(struct jose_header, alg) },
		{ "typ", offsetof(struct jose_header, typ) },
		{ "kid", offsetof(struct jose_header, kid) },
	};
	struct json_object *v;
	struct jose_val *m;

	*h = (struct jose_header){ 0 };
	for (size_t i = 0; i < sizeof(members) / sizeof(*members) +
	                           sizeof(jws_forbidden_headers) /
	                               sizeof(*jws_forbidden_headers);
	     i++) {
		bool forbidden = i >= sizeof(members) / sizeof(*members);
		size_t j =
		    forbidden ? i - sizeof(members) / sizeof(*members) : i;
		const char *name =
		    forbidden ? jws_forbidden_headers[j].name : members[j].name;
		size_t off =
		    forbidden ? jws_forbidden_headers[j].off : members[j].off;

		if (!json_object_object_get_ex(o, name, &v))
			continue;
		m = (struct jose_val *)((char *)h + off);
		/* A type other than string only has to be told apart. */
		m->type = JOSE_OBJECT;
		if (json_object_is_type(v, json_type_string)) {
			m->type = JOSE_STRING;
			m->str.p = json_object_get_string(v);
			m->str.len = m->str.dec_len =
			    (size_t)json_object_get_string_len(v);
		}
	}
}

/* A header string's bytes: the slice itself, or decoded into buf (a
 * header is at most JWT_MAX_HEADER_LEN bytes, so it fits). */
static const char *
jws_header_bytes(const struct jose_str *s, char buf[JWT_MAX_HEADER_LEN])
{
	if (!s->escaped)
		return s->p;
	jose_str_decode(s, buf);
	return buf;
}

/* The header rules: no forbidden parameter, a supported alg, a string
 * kid. Then the key: by kid, or the only one. Then alg must be the key's. */
static int
jws_pick_key(const struct jose_header *header, const struct jwks *set,
    const struct jws_key **key, struct err *e)
{
	char buf[JWT_MAX_HEADER_LEN];
	const struct jose_val *alg = &header->alg, *kid = &header->kid;
	const struct jws_key *k;
	const char *bytes;
	enum jws_alg named;

	*key = NULL;
	for (size_t i = 0;
	     i < sizeof(jws_forbidden_headers) / sizeof(*jws_forbidden_headers);
	     i++)
		if (((const struct jose_val *)((const char *)header +
		                               jws_forbidden_headers[i].off))
		        ->type != JOSE_ABSENT)
			return err_set(e, ERR_TOKEN_HEADER,
			    "jws: header \"%s\" refused",
			    jws_forbidden_headers[i].name);
	/* RFC 7515 4.1.1: alg is required. "none", HS256 and anything else
	 * we do not implement fail here, before any key is looked at. */
	if (alg->type != JOSE_STRING)
		return err_set(e, ERR_TOKEN_ALG, "jws: alg missing");
	bytes = jws_header_bytes(&alg->str, buf);
	named = jws_alg_from_name(bytes, alg->str.dec_len);
	if (named == JWS_ALG_UNKNOWN)
		return err_set(e, ERR_TOKEN_ALG, "jws: alg \"%.*s\" refused",
		    (int)(alg->str.dec_len < 16 ? alg->str.dec_len : 16),
		    bytes);
	if (kid->type != JOSE_ABSENT) {
		if (kid->type != JOSE_STRING)
			return err_set(
			    e, ERR_TOKEN_HEADER, "jws: kid is not a string");
		k = jwks_find(
		    set, jws_header_bytes(&kid->str, buf), kid->str.dec_len);
		if (k == NULL)
			return err_set(e, ERR_TOKEN_KID, "jws: unknown kid");
	} else if (set->n == 1) {
		k = set->keys[0];
	} else {
		/* With several keys, trying each would let a token pick
		 * among them; a kid is required instead. */
		return err_set(e, ERR_TOKEN_KID,
		    "jws: no kid and %zu keys to choose from", set->n);
	}
	/* RFC 8725 section 3.1: the key decides the algorithm. */
	if (named != k->alg)
		return err_set(e, ERR_TOKEN_ALG,
		    "jws: alg %s but the key is for %s", jws_alg_name(named),
		    jws_alg_name(k->alg));
	*key = k;
	return 0;
}

/* RFC 7515 section 7.1: exactly three parts, the second and third not
 * empty. A fourth part, or a trailing dot, leaves a '.' in the signature,
 * which base64url decoding refuses; checked here for a clearer log line. */
static int
jws_split(const char *token, size_t len, const char **dot1, const char **dot2,
    struct err *e)
{
	if (token == NULL || len == 0 || len > JWT_MAX_TOKEN_LEN)
		return err_set(
		    e, ERR_TOKEN_MALFORMED, "jws: token of %zu bytes", len);
	if ((*dot1 = memchr(token, '.', len)) == NULL ||
	    (*dot2 = memchr(
	         *dot1 + 1, '.', len - (size_t)(*dot1 + 1 - token))) == NULL ||
	    memchr(*dot2 + 1, '.', len - (size_t)(*dot2 + 1 - token)) != NULL)
		return err_set(e, ERR_TOKEN_MALFORMED, "jws: not three parts");
	if (*dot2 == *dot1 + 1 || *dot2 + 1 == token + len)
		return err_set(e, ERR_TOKEN_MALFORMED, "jws: empty part");
	return 0;
}

/* One part decoded into out[0..cap): the same length checks as
 * jws_part_object, before anything is decoded. */
static int
jws_part_decode(const char *b64, size_t len, size_t max, char *out, size_t cap,
    size_t *outlen, struct err *e)
{
	if (len == 0)
		return err_set(e, ERR_TOKEN_MALFORMED, "jws: empty part");
	if (len > b64url_encoded_len(max))
		return err_set(e, ERR_TOKEN_MALFORMED, "jws: part too long");
	return b64url_decode_to(b64, len, (unsigned char *)out, cap, outlen, e);
}

int
jws_verify_read(const char *token, size_t len, const struct jwks *set,
    struct jws_decoded *d, const struct jws_key **key, struct err *e)
{
	const struct jws_key *k = NULL;
	const char *dot1 = NULL, *dot2 = NULL;
	size_t hlen, plen, slen, n = 0;

	*key = NULL;
	d->h = (struct jose_header){ 0 };
	d->claims = (struct jose_claims){ 0 };
	if (set == NULL || set->n == 0)
		return err_set(e, ERR_INTERNAL, "jws: no verification keys");
	if (jws_split(token, len, &dot1, &dot2, e) == -1)
		return -1;
	hlen = (size_t)(dot1 - token);
	plen = (size_t)(dot2 - dot1 - 1);
	slen = len - (size_t)(dot2 + 1 - token);
	if (jws_part_decode(token, hlen, JWT_MAX_HEADER_LEN, d->header,
	        sizeof(d->header), &n, e) == -1 ||
	    jose_read_header(d->header, n, &d->h, e) == -1 ||
	    jws_pick_key(&d->h, set, &k, e) == -1)
		return -1;
	if (b64url_decode_to(dot2 + 1, slen, d->sig, sizeof(d->sig), &n, e) ==
	        -1 ||
	    jws_verify_raw(k, (const unsigned char *)token,
	        (size_t)(dot2 - token), d->sig, n, e) == -1)
		return -1;
	/* The payload is read only once it is known to be the issuer's. */
	if (jws_part_decode(dot1 + 1, plen, JWT_MAX_TOKEN_LEN, d->payload,
	        sizeof(d->payload), &n, e) == -1 ||
	    jose_read_claims(d->payload, n, &d->claims, e) == -1)
		return -1;
	*key = k;
	return 0;
}

int
jws_verify(const char *token, size_t len, const struct jwks *set,
    struct json_object **header, struct json_object **payload,
    const struct jws_key **key, struct err *e)
{
	struct json_object *h = NULL, *p = NULL;
	const struct jws_key *k = NULL;
	struct jose_header jh;
	unsigned char *sig = NULL;
	const char *dot1 = NULL, *dot2 = NULL;
	size_t hlen, plen, slen, siglen = 0;
	int rc = -1;

	if (header != NULL)
		*header = NULL;
	if (payload != NULL)
		*payload = NULL;
	if (key != NULL)
		*key = NULL;
	if (set == NULL || set->n == 0) {
		err_set(e, ERR_INTERNAL, "jws: no verification keys");
		goto out;
	}
	if (jws_split(token, len, &dot1, &dot2, e) == -1)
		goto out;
	hlen = (size_t)(dot1 - token);
	plen = (size_t)(dot2 - dot1 - 1);
	slen = len - (size_t)(dot2 + 1 - token);
	if (jws_part_object(token, hlen, JWT_MAX_HEADER_LEN, &h, e) == -1)
		goto out;
	jws_header_of_json(h, &jh);
	if (jws_pick_key(&jh, set, &k, e) == -1)
		goto out;
	if (b64url_decode(dot2 + 1, slen, &sig, &siglen, e) == -1 ||
	    jws_verify_raw(k, (const unsigned char *)token,
	        (size_t)(dot2 - token), sig, siglen, e) == -1)
		goto out;
	/* The payload is parsed only once it is known to be the issuer's. */
	if (jws_part_object(dot1 + 1, plen, JWT_MAX_TOKEN_LEN, &p, e) == -1)
		goto out;
	if (header != NULL) {
		*header = h;
		h = NULL;
	}
	if (payload != NULL) {
		*payload = p;
		p = NULL;
	}
	if (key != NULL)
		*key = k;
	rc = 0;
out:
	free(sig);
	json_object_put(h);
	json_object_put(p);
	return rc;
}
