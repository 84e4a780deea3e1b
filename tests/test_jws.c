/* Tests for jws: the RFC 7515 A.2 and RFC 8037 A.4 known answers, sign and
 * verify for RS256, ES256 and EdDSA, and every way a token can be refused,
 * each next to a token that passes. Forged tokens are signed properly with
 * the right key, so the rule under test is the only thing that fails. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include "b64url.h"
#include "json_util.h"
#include "jws.h"
#include "test.h"

static struct jws_key *rs, *es, *ed, *es_other;
static struct jwks *set_rs, *set_es, *set_ed, *set_two;

static char *
read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

static struct json_object *
vector(const char *name)
{
	char rel[128], path[512];
	struct json_object *obj = NULL;
	struct err e = { 0 };
	size_t len = 0;
	char *text;

	snprintf(rel, sizeof(rel), "tests/vectors/%s", name);
	text = read_text(test_source_path(rel, path, sizeof(path)), &len);
	CHECK(text != NULL);
	if (text != NULL)
		CHECK(json_parse_strict(
		          text, len, 16, ERR_INVALID_REQUEST, &obj, &e) == 0);
	free(text);
	return obj;
}

static const char *
member(struct json_object *obj, const char *name)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(obj, name, &v);
	return json_object_get_string(v);
}

static struct jws_key *
public_copy(const struct jws_key *k)
{
	struct json_object *jwk = jwk_to_json(k);
	struct jws_key *pub = jwk_from_json(jwk, NULL);

	json_object_put(jwk);
	return pub;
}

static struct jwks *
set_of(const struct jws_key *a, const struct jws_key *b)
{
	struct jwks *set = jwks_new();

	jwks_add(set, public_copy(a), NULL);
	if (b != NULL)
		jwks_add(set, public_copy(b), NULL);
	return set;
}

static unsigned char *
b64dec(const char *s, size_t *len)
{
	unsigned char *out = NULL;

	*len = 0;
	b64url_decode(s, strlen(s), &out, len, NULL);
	return out;
}

/* header.payload.signature from the JSON texts and raw signature bytes. */
static char *
assemble(const char *header, const char *payload, const unsigned char *sig,
    size_t siglen)
{
	char *h = b64url_encode(header, strlen(header));
	char *p = b64url_encode(payload, strlen(payload));
	char *s = b64url_encode(sig, siglen);
	char *t = malloc(strlen(h) + strlen(p) + strlen(s) + 3);

	sprintf(t, "%s.%s.%s", h, p, s);
	free(h);
	free(p);
	free(s);
	return t;
}

/* A token with exactly this header and payload text, signed by k. */
static char *
forge(const struct jws_key *k, const char *header, const char *payload)
{
	char *h = b64url_encode(header, strlen(header));
	char *p = b64url_encode(payload, strlen(payload));
	char *input = malloc(strlen(h) + strlen(p) + 2), *t;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	struct err e = { 0 };

	sprintf(input, "%s.%s", h, p);
	CHECK(jws_sign_raw(k, (const unsigned char *)input, strlen(input), &sig,
	          &siglen, &e) == 0);
	t = assemble(header, payload, sig, siglen);
	free(sig);
	free(input);
	free(h);
	free(p);
	return t;
}

/* A token from already encoded parts, which need not be canonical. */
static char *
forge_parts(const struct jws_key *k, const char *h64, const char *p64)
{
	char *t = malloc(strlen(h64) + strlen(p64) + 2), *s64, *out;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	struct err e = { 0 };

	sprintf(t, "%s.%s", h64, p64);
	CHECK(jws_sign_raw(k, (const unsigned char *)t, strlen(t), &sig,
	          &siglen, &e) == 0);
	s64 = b64url_encode(sig, siglen);
	out = malloc(strlen(t) + strlen(s64) + 2);
	sprintf(out, "%s.%s", t, s64);
	free(s64);
	free(sig);
	free(t);
	return out;
}

static char *
std_header(const struct jws_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}",
	    jws_alg_name(k->alg), k->kid);
	return buf;
}

static const char payload_text[] = "{\"sub\":\"u1\",\"iss\":\"me\"}";

/* Both verifiers on token: jws_verify (json-c: explain, the tools) and
 * jws_verify_read (jose_reader: the resource service) make the same checks
 * in the same order, so every case here must get the same verdict from
 * each. A disagreement is ERR_INTERNAL, which no case expects. */
static enum err_code
verify_code(
    const char *token, size_t len, const struct jwks *set, struct err *e)
{
	/* 16 KiB, and test_verify_from_threads calls this from threads */
	struct jws_decoded *d = malloc(sizeof(*d));
	const struct jws_key *key;
	struct err er = { 0 };
	enum err_code json_c, rd;

	*e = (struct err){ 0 };
	json_c = jws_verify(token, len, set, NULL, NULL, NULL, e) == 0
	             ? ERR_OK
	             : e->code;
	if (d == NULL) {
		err_set(e, ERR_NOMEM, "test_jws: out of memory");
		return ERR_NOMEM;
	}
	rd = jws_verify_read(token, len, set, d, &key, &er) == 0 ? ERR_OK
	                                                         : er.code;
	free(d);
	if (rd == json_c)
		return json_c;
	err_set(e, ERR_INTERNAL, "jws_verify %s, jws_verify_read %s (%s)",
	    err_code_name(json_c), err_code_name(rd), er.msg);
	return ERR_INTERNAL;
}

#define EXPECT(token, set, code)                                               \
	expect_code(__LINE__, (token), strlen(token), (set), (code))
#define EXPECT_LEN(token, len, set, code)                                      \
	expect_code(__LINE__, (token), (len), (set), (code))

static void
expect_code(int line, const char *token, size_t len, const struct jwks *set,
    enum err_code want)
{
	struct err e = { 0 };
	enum err_code got = verify_code(token, len, set, &e);

	CHECK(got == want);
	if (got != want)
		fprintf(stderr, "  line %d: got %s (%s), want %s\n", line,
		    err_code_name(got), e.msg, err_code_name(want));
}

/* RFC 7515 appendix A.2: the RFC's token verifies with the RFC's key, and
 * signing its signing input with that key gives the RFC's signature bytes
 * (RSASSA-PKCS1-v1_5 is deterministic). */
static void
test_rfc7515_a2_rs256(void)
{
	struct json_object *v = vector("rfc7515_a2.json"), *jwk = NULL;
	struct json_object *header = NULL, *payload = NULL;
	struct jws_key *pub = NULL, *priv = NULL;
	const struct jws_key *used = NULL;
	struct jwks *set = jwks_new();
	unsigned char *sig = NULL, *rfc_sig;
	size_t siglen = 0, rfc_len, n;
	const char *token, *input;
	char path[512], *tampered;
	struct err e = { 0 };

	json_object_object_get_ex(v, "jwk", &jwk);
	token = member(v, "token");
	input = member(v, "signing_input");
	CHECK((pub = jwk_from_json(jwk, &e)) != NULL);
	CHECK(jwks_add(set, pub, &e) == 0);
	CHECK(jws_verify(token, strlen(token), set, &header, &payload, &used,
	          &e) == 0);
	CHECK(used == set->keys[0]);
	CHECK(header != NULL && strcmp(member(header, "alg"), "RS256") == 0);
	CHECK(payload != NULL && strcmp(member(payload, "iss"), "joe") == 0);

	CHECK((priv = jwk_load_private_pem(
	           test_source_path("tests/vectors/rfc7515_a2_private.pem",
	               path, sizeof(path)),
	           &e)) != NULL);
	CHECK(priv != NULL && set->n == 1 &&
	      strcmp(priv->kid, set->keys[0]->kid) == 0);
	rfc_sig = b64dec(member(v, "signature"), &rfc_len);
	CHECK(rfc_len == 256);
	if (priv != NULL) {
		CHECK(jws_sign_raw(priv, (const unsigned char *)input,
		          strlen(input), &sig, &siglen, &e) == 0);
		CHECK(siglen == rfc_len && memcmp(sig, rfc_sig, siglen) == 0);
	}
	/* One bit of the signature flipped. */
	rfc_sig[100] ^= 0x01;
	tampered = malloc(strlen(token) + 1);
	n = (size_t)(strrchr(token, '.') - token);
	memcpy(tampered, token, n + 1);
	{
		char *s = b64url_encode(rfc_sig, rfc_len);
		strcpy(tampered + n + 1, s);
		free(s);
	}
	EXPECT(tampered, set, ERR_TOKEN_SIGNATURE);
	EXPECT(token, set, ERR_OK);
	free(tampered);
	free(rfc_sig);
	free(sig);
	json_object_put(header);
	json_object_put(payload);
	jwk_free(priv);
	jwks_free(set);
	json_object_put(v);
}

/* RFC 8037 appendix A.4: Ed25519 is deterministic too. The A.4 payload is
 * plain text, not a JSON object, so the compact token verifies its
 * signature and is then refused as malformed. */
static void
test_rfc8037_a4_ed25519(void)
{
	struct json_object *v = vector("rfc8037_a.json"), *jwk = NULL;
	struct jws_key *pub = NULL, *priv = NULL;
	struct jwks *set = jwks_new();
	unsigned char *sig = NULL, *rfc_sig;
	size_t siglen = 0, rfc_len;
	const char *input;
	char path[512], token[512];
	struct err e = { 0 };

	json_object_object_get_ex(v, "jwk", &jwk);
	input = member(v, "signing_input");
	rfc_sig = b64dec(member(v, "signature"), &rfc_len);
	CHECK(rfc_len == 64);
	CHECK((pub = jwk_from_json(jwk, &e)) != NULL);
	CHECK((priv = jwk_load_private_pem(
	           test_source_path("tests/vectors/rfc8037_a1_private.pem",
	               path, sizeof(path)),
	           &e)) != NULL);
	if (pub == NULL || priv == NULL)
		goto out;
	CHECK(jws_sign_raw(priv, (const unsigned char *)input, strlen(input),
	          &sig, &siglen, &e) == 0);
	CHECK(siglen == 64 && memcmp(sig, rfc_sig, 64) == 0);
	CHECK(jws_verify_raw(pub, (const unsigned char *)input, strlen(input),
	          rfc_sig, rfc_len, &e) == 0);
	rfc_sig[0] ^= 0x80;
	CHECK(jws_verify_raw(pub, (const unsigned char *)input, strlen(input),
	          rfc_sig, rfc_len, &e) == -1);
	CHECK(e.code == ERR_TOKEN_SIGNATURE);
	rfc_sig[0] ^= 0x80;

	snprintf(token, sizeof(token), "%s.%s", input, member(v, "signature"));
	CHECK(jwks_add(set, pub, &e) == 0);
	pub = NULL;
	EXPECT(token, set, ERR_TOKEN_MALFORMED);
out:
	free(rfc_sig);
	free(sig);
	jwk_free(pub);
	jwk_free(priv);
	jwks_free(set);
	json_object_put(v);
}

static void
sign_verify(const struct jws_key *k, const struct jwks *set, size_t siglen)
{
	struct json_object *payload = NULL, *h = NULL, *p = NULL;
	const struct jws_key *used = NULL;
	char *token = NULL, want[256], *dot;
	unsigned char *part;
	size_t len;
	struct err e = { 0 };

	CHECK(json_parse_strict(payload_text, strlen(payload_text), 8,
	          ERR_INVALID_REQUEST, &payload, &e) == 0);
	CHECK(jws_sign(k, "at+jwt", payload, &token, &e) == 0);
	if (token == NULL)
		goto out;
	CHECK(jws_verify(token, strlen(token), set, &h, &p, &used, &e) == 0);
	CHECK(used != NULL && strcmp(used->kid, k->kid) == 0);
	CHECK(p != NULL && strcmp(member(p, "sub"), "u1") == 0);
	CHECK(h != NULL && strcmp(member(h, "typ"), "at+jwt") == 0);
	/* The header, byte for byte: alg, typ, kid (docs/API.md). */
	dot = strchr(token, '.');
	*dot = '\0';
	part = b64dec(token, &len);
	*dot = '.';
	std_header(k, want, sizeof(want));
	CHECK(part != NULL && len == strlen(want) &&
	      memcmp(part, want, len) == 0);
	free(part);
	part = b64dec(strrchr(token, '.') + 1, &len);
	CHECK(len == siglen);
	free(part);
out:
	json_object_put(h);
	json_object_put(p);
	json_object_put(payload);
	free(token);
}

static void
test_sign_verify_each_alg(void)
{
	sign_verify(rs, set_rs, 256);
	sign_verify(es, set_es, 64); /* raw r||s, RFC 7518 section 3.4 */
	sign_verify(ed, set_ed, 64);
	sign_verify(es, set_two, 64);
	sign_verify(rs, set_two, 256);
}

/* RFC 8725 section 2.1: an RS256 public key used as an HMAC secret. The
 * attacker knows the PEM text, so the HS256 MAC is "valid" for it. */
static void
test_alg_confusion_hs256(void)
{
	char header[256], path[] = "/tmp/test_jws_pub.XXXXXX", *pem = NULL;
	char *token, *good;
	unsigned char mac[32];
	size_t maclen = 0, pemlen = 0;
	struct err e = { 0 };
	int fd = mkstemp(path);

	CHECK(fd != -1);
	if (fd == -1)
		return;
	close(fd);
	CHECK(jwk_save_public_pem(rs, path, true, &e) == 0);
	pem = read_text(path, &pemlen);
	unlink(path);
	CHECK(pem != NULL);
	if (pem == NULL)
		return;

	snprintf(header, sizeof(header),
	    "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", rs->kid);
	/* The MAC over the signing input, with the PEM as the key. */
	token = assemble(header, payload_text, (const unsigned char *)"", 0);
	*strrchr(token, '.') = '\0';
	CHECK(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, pem, pemlen,
	          (const unsigned char *)token, strlen(token), mac, sizeof(mac),
	          &maclen) != NULL);
	free(token);
	token = assemble(header, payload_text, mac, maclen);
	EXPECT(token, set_rs, ERR_TOKEN_ALG);
	EXPECT(token, set_two, ERR_TOKEN_ALG);
	free(token);
	/* Without a kid too. */
	token = assemble("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", payload_text,
	    mac, maclen);
	EXPECT(token, set_rs, ERR_TOKEN_ALG);
	free(token);

	/* Control: the same claims, RS256 with the private key, pass. */
	snprintf(header, sizeof(header),
	    "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", rs->kid);
	good = forge(rs, header, payload_text);
	EXPECT(good, set_rs, ERR_OK);
	free(good);
	free(pem);
}

static void
test_alg_none_and_unknown(void)
{
	static const char *const refused[] = { "none", "None", "NONE", "HS256",
		"HS384", "HS512", "RS384", "RS512", "PS256", "ES384", "ES512",
		"ES256K", "Ed25519", "rs256", "RS256 ", "" };
	char header[256], *token;
	unsigned char junk[256] = { 1 };

	/* "none" with an empty signature: three parts, the last empty. */
	token = assemble("{\"alg\":\"none\"}", payload_text, junk, 0);
	EXPECT(token, set_rs, ERR_TOKEN_MALFORMED);
	free(token);
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		snprintf(header, sizeof(header),
		    "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}",
		    refused[i], rs->kid);
		/* Signed with the right key, so only alg is wrong. */
		token = forge(rs, header, payload_text);
		EXPECT(token, set_rs, ERR_TOKEN_ALG);
		free(token);
	}
	/* alg missing or not a string. */
	token = forge(rs, "{\"typ\":\"at+jwt\"}", payload_text);
	EXPECT(token, set_rs, ERR_TOKEN_ALG);
	free(token);
	token = forge(rs, "{\"alg\":null}", payload_text);
	EXPECT(token, set_rs, ERR_TOKEN_ALG);
	free(token);
	token = forge(rs, "{\"alg\":[\"RS256\"]}", payload_text);
	EXPECT(token, set_rs, ERR_TOKEN_ALG);
	free(token);
	/* A supported alg that is not the key's: an ES256 token naming the
	 * RSA key's kid, and an EdDSA one without kid. */
	snprintf(header, sizeof(header), "{\"alg\":\"ES256\",\"kid\":\"%s\"}",
	    rs->kid);
	token = forge(es, header, payload_text);
	EXPECT(token, set_two, ERR_TOKEN_ALG);
	free(token);
	token = forge(ed, "{\"alg\":\"EdDSA\"}", payload_text);
	EXPECT(token, set_rs, ERR_TOKEN_ALG);
	free(token);
	/* Control: the right alg with the same key. */
	token = forge(rs, std_header(rs, header, sizeof(header)), payload_text);
	EXPECT(token, set_rs, ERR_OK);
	free(token);
	token = forge(rs, "{\"alg\":\"RS256\"}", payload_text);
	EXPECT(token, set_rs, ERR_OK);
	free(token);
}

/* RFC 8725 3.10 and RFC 7515 4.1.2-4.1.6, 4.1.11; RFC 7797 (b64); RFC 7516
 * 4.1.3 (zip, JWE only). Escaped spellings name the same parameter. */
static void
test_forbidden_headers(void)
{
	static const char *const members[] = {
		"\"crit\":[\"exp\"]",
		"\"crit\":[]",
		"\"jku\":\"https://evil.example/jwks.json\"",
		"\"x5u\":\"https://evil.example/cert.pem\"",
		"\"jwk\":{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AA\"}",
		"\"x5c\":[\"MIIB\"]",
		"\"b64\":false",
		"\"b64\":true",
		"\"b64\":false,\"crit\":[\"b64\"]",
		"\"zip\":\"DEF\"",
		"\"zip\":null",
		"\"\\u007aip\":\"DEF\"",
		"\"\\u0063rit\":[\"exp\"]",
	};
	char header[512], *token;

	for (size_t i = 0; i < sizeof(members) / sizeof(*members); i++) {
		snprintf(header, sizeof(header),
		    "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"%s\",%s}",
		    ed->kid, members[i]);
		token = forge(ed, header, payload_text);
		EXPECT(token, set_ed, ERR_TOKEN_HEADER);
		free(token);
	}
	/* Control: other parameters (x5t is only a hint, cty is inert). */
	snprintf(header, sizeof(header),
	    "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"%s\","
	    "\"x5t\":\"AA\",\"cty\":\"x\"}",
	    ed->kid);
	token = forge(ed, header, payload_text);
	EXPECT(token, set_ed, ERR_OK);
	free(token);
}

static void
test_kid_selection(void)
{
	char header[256], *token;
	size_t len;

	/* By kid among two keys. */
	token = forge(es, std_header(es, header, sizeof(header)), payload_text);
	EXPECT(token, set_two, ERR_OK);
	free(token);
	/* No kid: fine with one key, refused with two. */
	token =
	    forge(es, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}", payload_text);
	EXPECT(token, set_es, ERR_OK);
	EXPECT(token, set_two, ERR_TOKEN_KID);
	free(token);
	/* Unknown kid, even with a single key in the set. */
	token = forge(es, "{\"alg\":\"ES256\",\"kid\":\"nope\"}", payload_text);
	EXPECT(token, set_es, ERR_TOKEN_KID);
	free(token);
	/* kid must be a string. */
	token = forge(es, "{\"alg\":\"ES256\",\"kid\":7}", payload_text);
	EXPECT(token, set_es, ERR_TOKEN_HEADER);
	free(token);
	token = forge(es, "{\"alg\":\"ES256\",\"kid\":null}", payload_text);
	EXPECT(token, set_es, ERR_TOKEN_HEADER);
	free(token);
	/* The right kid followed by an embedded NUL is another kid. */
	snprintf(header, sizeof(header),
	    "{\"alg\":\"ES256\",\"kid\":\"%s\\u0000\"}", es->kid);
	token = forge(es, header, payload_text);
	EXPECT(token, set_es, ERR_TOKEN_KID);
	free(token);
	/* A prefix of the kid. */
	len = strlen(es->kid);
	snprintf(header, sizeof(header), "{\"alg\":\"ES256\",\"kid\":\"%.*s\"}",
	    (int)len - 1, es->kid);
	token = forge(es, header, payload_text);
	EXPECT(token, set_es, ERR_TOKEN_KID);
	free(token);
	/* Another key's signature under this key's kid. */
	token = forge(
	    es_other, std_header(es, header, sizeof(header)), payload_text);
	EXPECT(token, set_es, ERR_TOKEN_SIGNATURE);
	free(token);
}

/* The token's parts, decoded signature in sig[0..64). */
struct es_token {
	char header[256];
	unsigned char sig[80];
	size_t siglen;
	BIGNUM *order;
};

static char *
es_with(const struct es_token *t, const unsigned char *sig, size_t len)
{
	return assemble(t->header, payload_text, sig, len);
}

static char *
es_with_rs(const struct es_token *t, const BIGNUM *r, const BIGNUM *s)
{
	unsigned char raw[64];

	BN_bn2binpad(r, raw, 32);
	BN_bn2binpad(s, raw + 32, 32);
	return es_with(t, raw, 64);
}

/* RFC 7518 section 3.4: exactly 64 octets, r and s in [1, n-1]. */
static void
test_es256_signature_forms(void)
{
	struct es_token t = { 0 };
	EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	BIGNUM *r = BN_new(), *s = BN_new(), *zero = BN_new(), *tmp = BN_new(),
	       *big = NULL;
	ECDSA_SIG *ds = ECDSA_SIG_new();
	unsigned char *der = NULL, buf[80];
	char *tok, *good;
	size_t len;
	int dlen;

	CHECK(group != NULL && ds != NULL);
	if (group == NULL || ds == NULL)
		goto out;
	t.order = BN_dup(EC_GROUP_get0_order(group));
	std_header(es, t.header, sizeof(t.header));
	good = forge(es, t.header, payload_text);
	{
		unsigned char *raw = b64dec(strrchr(good, '.') + 1, &len);

		CHECK(len == 64);
		memcpy(t.sig, raw, 64);
		free(raw);
	}
	EXPECT(good, set_es, ERR_OK);
	free(good);
	BN_bin2bn(t.sig, 32, r);
	BN_bin2bn(t.sig + 32, 32, s);
	BN_zero(zero);

	/* The DER form OpenSSL itself produces is not JWS. */
	CHECK(ECDSA_SIG_set0(ds, BN_dup(r), BN_dup(s)) == 1);
	CHECK((dlen = i2d_ECDSA_SIG(ds, &der)) > 0);
	tok = es_with(&t, der, (size_t)dlen);
	EXPECT(tok, set_es, ERR_TOKEN_SIGNATURE);
	free(tok);
	/* 65 and 63 octets. */
	memcpy(buf, t.sig, 64);
	buf[64] = 0;
	tok = es_with(&t, buf, 65);
	EXPECT(tok, set_es, ERR_TOKEN_SIGNATURE);
	free(tok);
	tok = es_with(&t, buf, 63);
	EXPECT(tok, set_es, ERR_TOKEN_SIGNATURE);
	free(tok);
	/* r = 0, s = 0. */
	tok = es_with_rs(&t, zero, s);
	EXPECT(tok, set_es, ERR_TOKEN_SIGNATURE);
	free(tok);
	tok = es_with_rs(&t, r, zero);
	EXPECT(tok, set_es, ERR_TOKEN_SIGNATURE);
	free(tok);
	/* s = n and r = n: refused by the range check itself. */
	tok = es_with_rs(&t, r, t.order);
	{
		struct err e = { 0 };
		CHECK(verify_code(tok, strlen(tok), set_es, &e) ==
		      ERR_TOKEN_SIGNATURE);
		CHECK(strstr(e.msg, "range") != NULL);
	}
	free(tok);
	tok = es_with_rs(&t, t.order, s);
	EXPECT(tok, set_es, ERR_TOKEN_SIGNATURE);
	free(tok);
	/* s + n, when it fits in 32 octets: the same s modulo n. */
	big = BN_new();
	BN_add(big, s, t.order);
	if (BN_num_bytes(big) <= 32) {
		tok = es_with_rs(&t, r, big);
		EXPECT(tok, set_es, ERR_TOKEN_SIGNATURE);
		free(tok);
	}
	/* All ones. */
	memset(buf, 0xff, 64);
	tok = es_with(&t, buf, 64);
	EXPECT(tok, set_es, ERR_TOKEN_SIGNATURE);
	free(tok);
	/* Control: (r, n - s) is the other valid ECDSA signature of the same
	 * message, and it lies in range, so it passes. */
	BN_sub(tmp, t.order, s);
	tok = es_with_rs(&t, r, tmp);
	EXPECT(tok, set_es, ERR_OK);
	free(tok);
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(ds);
	BN_free(big);
	BN_free(r);
	BN_free(s);
	BN_free(zero);
	BN_free(tmp);
	BN_free(t.order);
	EC_GROUP_free(group);
}

/* The signature covers header and payload: change either, or the
 * signature, and the token fails. */
static void
tamper(const struct jws_key *k, const struct jwks *set)
{
	char header[256], *good, *other, *mixed, *dot;
	unsigned char *sig;
	size_t len;

	std_header(k, header, sizeof(header));
	good = forge(k, header, payload_text);
	other = forge(k, header, "{\"sub\":\"admin\",\"iss\":\"me\"}");
	EXPECT(good, set, ERR_OK);
	EXPECT(other, set, ERR_OK);
	/* good's header and signature, other's payload. */
	mixed = malloc(strlen(good) + strlen(other) + 1);
	dot = strchr(good, '.');
	memcpy(mixed, good, (size_t)(dot - good) + 1);
	mixed[dot - good + 1] = '\0';
	strncat(mixed, strchr(other, '.') + 1,
	    (size_t)(strrchr(other, '.') - strchr(other, '.') - 1));
	strcat(mixed, strrchr(good, '.'));
	EXPECT(mixed, set, ERR_TOKEN_SIGNATURE);
	free(mixed);
	/* One bit of the signature. */
	sig = b64dec(strrchr(good, '.') + 1, &len);
	sig[len / 2] ^= 0x10;
	{
		char *s = b64url_encode(sig, len);
		mixed = malloc(strlen(good) + 1);
		memcpy(mixed, good, (size_t)(strrchr(good, '.') - good) + 1);
		strcpy(mixed + (strrchr(good, '.') - good) + 1, s);
		free(s);
	}
	EXPECT(mixed, set, ERR_TOKEN_SIGNATURE);
	free(mixed);
	free(sig);
	/* Another header (typ changed) with the old signature. */
	snprintf(header, sizeof(header),
	    "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
	    jws_alg_name(k->alg), k->kid);
	sig = b64dec(strrchr(good, '.') + 1, &len);
	mixed = assemble(header, payload_text, sig, len);
	EXPECT(mixed, set, ERR_TOKEN_SIGNATURE);
	free(mixed);
	free(sig);
	free(good);
	free(other);
}

static void
test_tampered_tokens(void)
{
	tamper(rs, set_rs);
	tamper(es, set_es);
	tamper(ed, set_ed);
}

static char *
concat(const char *a, const char *b, const char *c)
{
	char *s = malloc(strlen(a) + strlen(b) + strlen(c) + 1);

	sprintf(s, "%s%s%s", a, b, c);
	return s;
}

/* RFC 7515 section 7.1 and section 2: three non-empty canonical base64url
 * parts, two dots, nothing else. */
static void
test_compact_structure(void)
{
	char header[256], *good, *t, *h, *p, *s;
	size_t hlen, plen;

	good = forge(ed, std_header(ed, header, sizeof(header)), payload_text);
	EXPECT(good, set_ed, ERR_OK);
	hlen = (size_t)(strchr(good, '.') - good);
	plen = (size_t)(strrchr(good, '.') - good) - hlen - 1;
	h = strndup(good, hlen);
	p = strndup(good + hlen + 1, plen);
	s = strdup(strrchr(good, '.') + 1);

	t = concat(good, ".", "");
	EXPECT(t, set_ed, ERR_TOKEN_MALFORMED); /* trailing dot */
	free(t);
	t = concat(good, ".", s);
	EXPECT(t, set_ed, ERR_TOKEN_MALFORMED); /* four parts */
	free(t);
	t = concat(h, ".", p);
	EXPECT(t, set_ed, ERR_TOKEN_MALFORMED); /* two parts */
	free(t);
	EXPECT(h, set_ed, ERR_TOKEN_MALFORMED); /* one part */
	t = concat(".", p, ".");
	{
		char *u = concat(t, s, "");
		EXPECT(u, set_ed, ERR_TOKEN_MALFORMED); /* empty header */
		free(u);
	}
	free(t);
	t = concat(h, "..", s);
	EXPECT(t, set_ed, ERR_TOKEN_MALFORMED); /* empty payload */
	free(t);
	t = concat(".", good, "");
	EXPECT(t, set_ed, ERR_TOKEN_MALFORMED); /* leading dot */
	free(t);
	/* Padding on each part. */
	{
		char *hp = concat(h, "==", ""), *pp = concat(p, "=", "");
		char *sp = concat(s, "==", "");

		t = malloc(strlen(good) + 8);
		sprintf(t, "%s.%s.%s", hp, p, s);
		EXPECT(t, set_ed, ERR_TOKEN_MALFORMED);
		/* The payload is read only after the signature verified,
		 * and the padding is part of what was signed. */
		sprintf(t, "%s.%s.%s", h, pp, s);
		EXPECT(t, set_ed, ERR_TOKEN_SIGNATURE);
		sprintf(t, "%s.%s.%s", h, p, sp);
		EXPECT(t, set_ed, ERR_TOKEN_MALFORMED);
		free(t);
		/* Signed with the padding, it is refused as malformed. */
		t = forge_parts(ed, h, pp);
		EXPECT(t, set_ed, ERR_TOKEN_MALFORMED);
		free(t);
		t = forge_parts(ed, hp, p);
		EXPECT(t, set_ed, ERR_TOKEN_MALFORMED);
		free(t);
		t = forge_parts(ed, h, p);
		EXPECT(t, set_ed, ERR_OK);
		free(t);
		free(hp);
		free(pp);
		free(sp);
	}
	/* Whitespace, and the base64 (not base64url) alphabet. */
	t = concat(good, "\n", "");
	EXPECT(t, set_ed, ERR_TOKEN_MALFORMED);
	free(t);
	t = concat(" ", good, "");
	EXPECT(t, set_ed, ERR_TOKEN_MALFORMED);
	free(t);
	t = strdup(good);
	t[strlen(t) - 3] = '+';
	EXPECT(t, set_ed, ERR_TOKEN_MALFORMED);
	t[strlen(t) - 3] = '/';
	EXPECT(t, set_ed, ERR_TOKEN_MALFORMED);
	free(t);
	/* A 64-octet signature is 86 characters whose last one carries 4
	 * unused bits: setting them is another spelling of the same bytes. */
	t = strdup(good);
	{
		char *last = t + strlen(t) - 1;
		static const char alphabet[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
		    "ghijklmnopqrstuvwxyz0123456789-_";
		size_t idx = (size_t)(strchr(alphabet, *last) - alphabet);

		CHECK(strlen(s) == 86 && idx % 16 == 0);
		*last = alphabet[idx | 1];
	}
	EXPECT(t, set_ed, ERR_TOKEN_MALFORMED);
	free(t);
	/* An embedded NUL, with the length covering the rest. */
	t = strdup(good);
	t[2] = '\0';
	EXPECT_LEN(t, strlen(good), set_ed, ERR_TOKEN_MALFORMED);
	t[2] = good[2];
	t[hlen + 3] = '\0';
	EXPECT_LEN(t, strlen(good), set_ed, ERR_TOKEN_SIGNATURE);
	/* The length is authoritative: a prefix of a good token fails. */
	memcpy(t, good, strlen(good));
	EXPECT_LEN(t, strlen(good) - 1, set_ed, ERR_TOKEN_MALFORMED);
	EXPECT_LEN(t, strlen(good) - 2, set_ed, ERR_TOKEN_SIGNATURE);
	EXPECT_LEN(t, 0, set_ed, ERR_TOKEN_MALFORMED);
	EXPECT_LEN(t, strlen(good), set_ed, ERR_OK);
	free(t);
	free(h);
	free(p);
	free(s);
	free(good);
}

static void
test_size_bounds(void)
{
	char header[JWT_MAX_HEADER_LEN + 256], pad[JWT_MAX_HEADER_LEN + 1];
	char *payload, *t;
	size_t base, n;

	/* A header of exactly JWT_MAX_HEADER_LEN bytes passes, one more
	 * byte does not. */
	base = strlen(std_header(ed, header, sizeof(header))) + 7;
	n = JWT_MAX_HEADER_LEN - base;
	memset(pad, 'a', n);
	pad[n] = '\0';
	snprintf(header, sizeof(header),
	    "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"%s\",\"x\":\"%"
	    "s\"}",
	    ed->kid, pad);
	CHECK(strlen(header) == JWT_MAX_HEADER_LEN);
	t = forge(ed, header, payload_text);
	EXPECT(t, set_ed, ERR_OK);
	free(t);
	pad[n] = 'a';
	pad[n + 1] = '\0';
	snprintf(header, sizeof(header),
	    "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"%s\",\"x\":\"%"
	    "s\"}",
	    ed->kid, pad);
	t = forge(ed, header, payload_text);
	EXPECT(t, set_ed, ERR_TOKEN_MALFORMED);
	free(t);

	/* The whole token: JWT_MAX_TOKEN_LEN passes, one more does not. */
	std_header(ed, header, sizeof(header));
	payload = malloc(JWT_MAX_TOKEN_LEN);
	t = forge(ed, header, "{\"x\":\"\"}");
	base = strlen(t); /* grows by 4 characters per 3 bytes of padding */
	free(t);
	n = (JWT_MAX_TOKEN_LEN - base) / 4 * 3;
	snprintf(payload, JWT_MAX_TOKEN_LEN, "{\"x\":\"%0*d\"}", (int)n, 0);
	t = forge(ed, header, payload);
	CHECK(strlen(t) <= JWT_MAX_TOKEN_LEN);
	EXPECT(t, set_ed, ERR_OK);
	free(t);
	snprintf(payload, JWT_MAX_TOKEN_LEN, "{\"x\":\"%0*d\"}", (int)n + 3, 0);
	t = forge(ed, header, payload);
	CHECK(strlen(t) > JWT_MAX_TOKEN_LEN);
	EXPECT(t, set_ed, ERR_TOKEN_MALFORMED);
	free(t);
	free(payload);
}

/* Header and payload are strict JSON objects, duplicate names refused
 * (RFC 7515 section 4: one reader must never see another value). */
static void
test_json_rules(void)
{
	char header[256], dup[300], *t;
	static const char *const bad_headers[] = { "[]", "\"EdDSA\"", "1",
		"null", "{\"alg\":\"EdDSA\"} x", "{\"alg\":\"EdDSA\",}",
		"{'alg':'EdDSA'}" };
	static const char *const bad_payloads[] = { "[]", "\"s\"", "1",
		"{\"sub\":\"a\",\"sub\":\"b\"}",
		"{\"sub\":\"a\",\"\\u0073ub\":\"b\"}", "{\"sub\":\"\xff\"}",
		"{\"sub\":NaN}", "{\"sub\":\"a\"}{}", "" };

	for (size_t i = 0; i < sizeof(bad_headers) / sizeof(*bad_headers);
	     i++) {
		t = forge(ed, bad_headers[i], payload_text);
		EXPECT(t, set_ed, ERR_TOKEN_MALFORMED);
		free(t);
	}
	/* Duplicate alg, even with equal values. */
	snprintf(dup, sizeof(dup),
	    "{\"alg\":\"EdDSA\",\"alg\":\"EdDSA\",\"kid\":\"%s\"}", ed->kid);
	t = forge(ed, dup, payload_text);
	EXPECT(t, set_ed, ERR_TOKEN_MALFORMED);
	free(t);
	std_header(ed, header, sizeof(header));
	for (size_t i = 0; i < sizeof(bad_payloads) / sizeof(*bad_payloads);
	     i++) {
		t = forge(ed, header, bad_payloads[i]);
		EXPECT(t, set_ed, ERR_TOKEN_MALFORMED);
		free(t);
	}
	/* Control: whitespace around a valid object is fine (RFC 8259). */
	t = forge(ed, header, " {\"sub\" : \"a\"}\r\n");
	EXPECT(t, set_ed, ERR_OK);
	free(t);
}

/* RFC 8017 8.2.2: an RS256 signature is exactly as long as the modulus. */
static void
test_rs256_signature_length(void)
{
	char header[256], *good, *t;
	unsigned char *sig, *longer;
	size_t len;

	good = forge(rs, std_header(rs, header, sizeof(header)), payload_text);
	sig = b64dec(strrchr(good, '.') + 1, &len);
	CHECK(len == 256);
	t = assemble(header, payload_text, sig + 1, len - 1);
	EXPECT(t, set_rs, ERR_TOKEN_SIGNATURE);
	free(t);
	longer = calloc(1, len + 1);
	memcpy(longer + 1, sig, len);
	t = assemble(header, payload_text, longer, len + 1);
	EXPECT(t, set_rs, ERR_TOKEN_SIGNATURE);
	free(t);
	t = assemble(header, payload_text, sig, len);
	EXPECT(t, set_rs, ERR_OK);
	free(t);
	/* The spelling OpenSSL would take: a signature whose first octet is
	 * zero, sent without it. Signing is deterministic, so payloads are
	 * tried until one signs with a leading zero (1 in 256). */
	{
		char payload[64];
		int found = 0;

		for (int i = 0; i < 20000 && !found; i++) {
			snprintf(
			    payload, sizeof(payload), "{\"sub\":\"z%d\"}", i);
			free(good);
			free(sig);
			good = forge(rs, header, payload);
			sig = b64dec(strrchr(good, '.') + 1, &len);
			found = len == 256 && sig[0] == 0;
		}
		CHECK(found);
		t = assemble(header, payload, sig + 1, len - 1);
		EXPECT(t, set_rs, ERR_TOKEN_SIGNATURE);
		free(t);
		t = assemble(header, payload, sig, len);
		EXPECT(t, set_rs, ERR_OK);
		free(t);
	}
	/* EdDSA: 64 octets too. */
	free(good);
	good = forge(ed, std_header(ed, header, sizeof(header)), payload_text);
	free(sig);
	sig = b64dec(strrchr(good, '.') + 1, &len);
	t = assemble(header, payload_text, sig, len - 1);
	EXPECT(t, set_ed, ERR_TOKEN_SIGNATURE);
	free(t);
	free(longer);
	free(sig);
	free(good);
}

static void
test_api_misuse(void)
{
	struct json_object *payload = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	const struct jws_key *pub = set_ed->keys[0];
	struct jwks *empty = jwks_new();
	char *token = NULL;
	struct err e = { 0 };

	CHECK(jws_sign(pub, "at+jwt", payload, &token, &e) == -1);
	CHECK(e.code == ERR_KEY && token == NULL);
	e = (struct err){ 0 };
	CHECK(jws_sign(ed, "at+jwt", arr, &token, &e) == -1);
	CHECK(e.code == ERR_INTERNAL);
	e = (struct err){ 0 };
	CHECK(jws_sign(ed, NULL, payload, &token, &e) == 0); /* no typ */
	CHECK(token != NULL);
	if (token != NULL) {
		EXPECT(token, set_ed, ERR_OK);
		EXPECT(token, empty, ERR_INTERNAL);
		EXPECT(token, NULL, ERR_INTERNAL);
	}
	free(token);
	jwks_free(empty);
	json_object_put(arr);
	json_object_put(payload);
}

/* Four threads verify with the same keys at once: the per-key verify
 * context is shared read-only and duplicated per call. Each thread checks
 * a good and a corrupted token per key and counts its own mistakes; the
 * main thread CHECKs the counts (CHECK itself is not thread-safe). */
#define MT_THREADS 4
#define MT_ROUNDS 100

struct mt_case {
	const struct jwks *set;
	char *good, *bad;
};

struct mt_work {
	const struct mt_case *cases;
	size_t n;
	int wrong;
};

static void *
mt_worker(void *arg)
{
	struct mt_work *w = arg;
	struct err e;

	for (int r = 0; r < MT_ROUNDS; r++)
		for (size_t i = 0; i < w->n; i++) {
			const struct mt_case *c = &w->cases[i];

			if (verify_code(c->good, strlen(c->good), c->set, &e) !=
			    ERR_OK)
				w->wrong++;
			if (verify_code(c->bad, strlen(c->bad), c->set, &e) !=
			    ERR_TOKEN_SIGNATURE)
				w->wrong++;
		}
	return NULL;
}

static void
test_verify_from_threads(void)
{
	const struct jws_key *keys[] = { rs, es, ed };
	const struct jwks *sets[] = { set_rs, set_es, set_ed };
	struct mt_case cases[3] = { { 0 } };
	struct mt_work work[MT_THREADS];
	pthread_t t[MT_THREADS];
	char header[256];
	size_t len;

	for (size_t i = 0; i < 3; i++) {
		std_header(keys[i], header, sizeof(header));
		cases[i].set = sets[i];
		/* Prepared for RS256 and ES256; EdDSA keeps the one-shot. */
		CHECK((sets[i]->keys[0]->verify_template != NULL) ==
		      (keys[i] != ed));
		cases[i].good = forge(keys[i], header, payload_text);
		cases[i].bad = strdup(cases[i].good);
		CHECK(cases[i].good != NULL && cases[i].bad != NULL);
		/* A flipped signature byte, well inside the last part, so
		 * base64url still decodes and only the signature is wrong. */
		len = strlen(cases[i].bad);
		cases[i].bad[len - 20] =
		    cases[i].bad[len - 20] == 'A' ? 'B' : 'A';
		/* The positive and negative controls, single-threaded. */
		EXPECT(cases[i].good, sets[i], ERR_OK);
		EXPECT(cases[i].bad, sets[i], ERR_TOKEN_SIGNATURE);
	}
	for (size_t i = 0; i < MT_THREADS; i++) {
		work[i] = (struct mt_work){ .cases = cases, .n = 3 };
		CHECK(pthread_create(&t[i], NULL, mt_worker, &work[i]) == 0);
	}
	for (size_t i = 0; i < MT_THREADS; i++) {
		CHECK(pthread_join(t[i], NULL) == 0);
		CHECK(work[i].wrong == 0);
	}
	for (size_t i = 0; i < 3; i++) {
		free(cases[i].good);
		free(cases[i].bad);
	}
}

int
main(void)
{
	struct err e = { 0 };
	int rc;

	rs = jwk_generate(JWS_ALG_RS256, 2048, &e);
	es = jwk_generate(JWS_ALG_ES256, 0, &e);
	ed = jwk_generate(JWS_ALG_EDDSA, 0, &e);
	es_other = jwk_generate(JWS_ALG_ES256, 0, &e);
	if (rs == NULL || es == NULL || ed == NULL || es_other == NULL) {
		fprintf(stderr, "key generation failed: %s\n", e.msg);
		return EXIT_FAILURE;
	}
	set_rs = set_of(rs, NULL);
	set_es = set_of(es, NULL);
	set_ed = set_of(ed, NULL);
	set_two = set_of(rs, es);
	RUN(test_rfc7515_a2_rs256);
	RUN(test_rfc8037_a4_ed25519);
	RUN(test_sign_verify_each_alg);
	RUN(test_alg_confusion_hs256);
	RUN(test_alg_none_and_unknown);
	RUN(test_forbidden_headers);
	RUN(test_kid_selection);
	RUN(test_es256_signature_forms);
	RUN(test_tampered_tokens);
	RUN(test_compact_structure);
	RUN(test_size_bounds);
	RUN(test_json_rules);
	RUN(test_rs256_signature_length);
	RUN(test_api_misuse);
	RUN(test_verify_from_threads);
	rc = test_report();
	jwks_free(set_rs);
	jwks_free(set_es);
	jwks_free(set_ed);
	jwks_free(set_two);
	jwk_free(rs);
	jwk_free(es);
	jwk_free(ed);
	jwk_free(es_other);
	return rc;
}
