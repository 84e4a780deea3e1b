/* Tests for jwk: key acceptance, PEM in and out, JWK in and out, and the
 * RFC 7638 thumbprint against the RFC 7638 and RFC 8037 known answers. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "json_util.h"
#include "jwk.h"
#include "jwks.h"
#include "test.h"

static char tmpdir[] = "/tmp/test_jwk.XXXXXX";

static const char *
tmp_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
	return buf;
}

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

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* A vector file from tests/vectors, parsed. */
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

/* A JWK parsed from text, through the strict parser. */
static struct jws_key *
jwk_text(const char *text, struct err *e)
{
	struct json_object *obj = NULL;
	struct jws_key *k = NULL;
	struct err pe = { 0 };

	if (json_parse_strict(
	        text, strlen(text), 16, ERR_INVALID_REQUEST, &obj, &pe) == 0)
		k = jwk_from_json(obj, e);
	json_object_put(obj);
	return k;
}

static void
test_alg_names(void)
{
	CHECK(strcmp(jws_alg_name(JWS_ALG_RS256), "RS256") == 0);
	CHECK(strcmp(jws_alg_name(JWS_ALG_ES256), "ES256") == 0);
	CHECK(strcmp(jws_alg_name(JWS_ALG_EDDSA), "EdDSA") == 0);
	CHECK(jws_alg_name(JWS_ALG_UNKNOWN) == NULL);
	CHECK(jws_alg_from_name("RS256", 5) == JWS_ALG_RS256);
	CHECK(jws_alg_from_name("ES256", 5) == JWS_ALG_ES256);
	CHECK(jws_alg_from_name("EdDSA", 5) == JWS_ALG_EDDSA);
	/* Case-sensitive, exact length (RFC 7515 section 4.1.1). */
	CHECK(jws_alg_from_name("rs256", 5) == JWS_ALG_UNKNOWN);
	CHECK(jws_alg_from_name("EDDSA", 5) == JWS_ALG_UNKNOWN);
	CHECK(jws_alg_from_name("RS256\0", 6) == JWS_ALG_UNKNOWN);
	CHECK(jws_alg_from_name("RS25", 4) == JWS_ALG_UNKNOWN);
	CHECK(jws_alg_from_name("none", 4) == JWS_ALG_UNKNOWN);
	CHECK(jws_alg_from_name("HS256", 5) == JWS_ALG_UNKNOWN);
	CHECK(jws_alg_from_name(NULL, 0) == JWS_ALG_UNKNOWN);
}

/* RFC 7638 section 3.1: the example key and its thumbprint. The JWK carries
 * its own kid, which is kept, while the thumbprint is computed. */
static void
test_rfc7638_thumbprint(void)
{
	struct json_object *v = vector("rfc7638_3_1.json"), *jwk = NULL;
	struct jws_key *k = NULL;
	char tp[JWK_KID_MAX + 1];
	struct err e = { 0 };

	json_object_object_get_ex(v, "jwk", &jwk);
	CHECK((k = jwk_from_json(jwk, &e)) != NULL);
	if (k != NULL) {
		CHECK(k->alg == JWS_ALG_RS256);
		CHECK(!k->has_private);
		CHECK(strcmp(k->kid, "2011-04-29") == 0);
		CHECK(jwk_thumbprint(k->pkey, tp, &e) == 0);
		CHECK(strcmp(tp, member(v, "thumbprint")) == 0);
		CHECK(strcmp(tp,
		          "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs") == 0);
	}
	jwk_free(k);
	json_object_put(v);
}

/* RFC 8037 appendix A.3: the Ed25519 thumbprint, from the public JWK and
 * from the private key of A.1 stored as PKCS#8. */
static void
test_rfc8037_thumbprint(void)
{
	struct json_object *v = vector("rfc8037_a.json"), *jwk = NULL;
	struct jws_key *pub = NULL, *priv = NULL;
	char path[512];
	struct err e = { 0 };

	json_object_object_get_ex(v, "jwk", &jwk);
	CHECK((pub = jwk_from_json(jwk, &e)) != NULL);
	CHECK((priv = jwk_load_private_pem(
	           test_source_path("tests/vectors/rfc8037_a1_private.pem",
	               path, sizeof(path)),
	           &e)) != NULL);
	if (pub != NULL && priv != NULL) {
		CHECK(pub->alg == JWS_ALG_EDDSA && priv->alg == JWS_ALG_EDDSA);
		/* No kid in the JWK: the thumbprint is the kid. */
		CHECK(strcmp(pub->kid,
		          "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k") == 0);
		CHECK(strcmp(priv->kid, pub->kid) == 0);
		CHECK(strcmp(pub->kid, member(v, "thumbprint")) == 0);
		CHECK(priv->has_private && !pub->has_private);
	}
	jwk_free(pub);
	jwk_free(priv);
	json_object_put(v);
}

static mode_t
file_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static void
roundtrip(enum jws_alg alg, int bits)
{
	struct jws_key *k = NULL, *priv = NULL, *pub = NULL, *imp = NULL;
	struct json_object *jwk = NULL, *v = NULL;
	char ppath[512], upath[512], name[64];
	struct err e = { 0 };

	snprintf(name, sizeof(name), "priv-%s.pem", jws_alg_name(alg));
	tmp_path(name, ppath, sizeof(ppath));
	snprintf(name, sizeof(name), "pub-%s.pem", jws_alg_name(alg));
	tmp_path(name, upath, sizeof(upath));

	CHECK((k = jwk_generate(alg, bits, &e)) != NULL);
	if (k == NULL)
		return;
	CHECK(k->alg == alg);
	CHECK(k->has_private);
	CHECK(strlen(k->kid) == 43); /* base64url of 32 octets */
	CHECK(jwk_save_private_pem(k, ppath, false, &e) == 0);
	CHECK(jwk_save_public_pem(k, upath, false, &e) == 0);
	CHECK(file_mode(ppath) == 0600);
	CHECK((priv = jwk_load_private_pem(ppath, &e)) != NULL);
	CHECK((pub = jwk_load_public_pem(upath, &e)) != NULL);
	if (priv != NULL && pub != NULL) {
		CHECK(priv->has_private && !pub->has_private);
		CHECK(strcmp(priv->kid, k->kid) == 0);
		CHECK(strcmp(pub->kid, k->kid) == 0);
		CHECK(priv->alg == alg && pub->alg == alg);
	}
	/* A public key cannot be saved as a private one. */
	e = (struct err){ 0 };
	CHECK(jwk_save_private_pem(pub, ppath, true, &e) == -1);
	CHECK(e.code == ERR_KEY);

	/* JWK out: public members only, plus kid, alg, use. */
	CHECK((jwk = jwk_to_json(k)) != NULL);
	CHECK(strcmp(member(jwk, "kid"), k->kid) == 0);
	CHECK(strcmp(member(jwk, "alg"), jws_alg_name(alg)) == 0);
	CHECK(strcmp(member(jwk, "use"), "sig") == 0);
	for (size_t i = 0; i < 6; i++) {
		static const char *const private_members[] = { "d", "p", "q",
			"dp", "dq", "qi" };
		CHECK(!json_object_object_get_ex(jwk, private_members[i], &v));
	}
	if (alg == JWS_ALG_ES256) {
		CHECK(strcmp(member(jwk, "kty"), "EC") == 0);
		CHECK(strcmp(member(jwk, "crv"), "P-256") == 0);
		CHECK(strlen(member(jwk, "x")) == 43); /* 32 octets */
		CHECK(strlen(member(jwk, "y")) == 43);
	} else if (alg == JWS_ALG_EDDSA) {
		CHECK(strcmp(member(jwk, "kty"), "OKP") == 0);
		CHECK(strcmp(member(jwk, "crv"), "Ed25519") == 0);
		CHECK(strlen(member(jwk, "x")) == 43);
	} else {
		CHECK(strcmp(member(jwk, "kty"), "RSA") == 0);
		CHECK(strcmp(member(jwk, "e"), "AQAB") == 0);
		CHECK(
		    strlen(member(jwk, "n")) == (size_t)(bits / 8 * 4 + 2) / 3);
	}
	/* JWK in: the same key, no private part. */
	CHECK((imp = jwk_from_json(jwk, &e)) != NULL);
	if (imp != NULL) {
		CHECK(strcmp(imp->kid, k->kid) == 0);
		CHECK(imp->alg == alg && !imp->has_private);
		CHECK(EVP_PKEY_eq(imp->pkey, k->pkey) == 1);
	}
	unlink(ppath);
	unlink(upath);
	json_object_put(jwk);
	jwk_free(imp);
	jwk_free(pub);
	jwk_free(priv);
	jwk_free(k);
}

static void
test_generate_save_load_roundtrip(void)
{
	roundtrip(JWS_ALG_RS256, 2048);
	roundtrip(JWS_ALG_ES256, 0);
	roundtrip(JWS_ALG_EDDSA, 0);
}

static void
test_generate_rejects_bad_sizes(void)
{
	struct err e = { 0 };
	struct jws_key *k;

	CHECK(jwk_generate(JWS_ALG_RS256, 1024, &e) == NULL);
	CHECK(e.code == ERR_KEY);
	e = (struct err){ 0 };
	CHECK(jwk_generate(JWS_ALG_RS256, JWK_RSA_MAX_BITS + 8, &e) == NULL);
	CHECK(e.code == ERR_KEY);
	e = (struct err){ 0 };
	CHECK(jwk_generate(JWS_ALG_UNKNOWN, 2048, &e) == NULL);
	CHECK(e.code == ERR_KEY);
	/* Control: the smallest allowed size works. */
	e = (struct err){ 0 };
	CHECK((k = jwk_generate(JWS_ALG_RS256, JWK_RSA_MIN_BITS, &e)) != NULL);
	jwk_free(k);
}

static size_t
dir_entries(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* O_EXCL unless overwrite; overwrite replaces the file by rename and
 * leaves no temporary file behind. */
static void
test_save_never_clobbers(void)
{
	struct jws_key *a = jwk_generate(JWS_ALG_EDDSA, 0, NULL);
	struct jws_key *b = jwk_generate(JWS_ALG_EDDSA, 0, NULL);
	struct jws_key *got = NULL;
	char path[512];
	struct err e = { 0 };
	size_t before;

	tmp_path("clobber.pem", path, sizeof(path));
	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL)
		goto out;
	before = dir_entries();
	CHECK(jwk_save_private_pem(a, path, false, &e) == 0);
	CHECK(jwk_save_private_pem(b, path, false, &e) == -1);
	CHECK(e.code == ERR_IO);
	CHECK(strstr(e.msg, "exists") != NULL);
	CHECK((got = jwk_load_private_pem(path, &e)) != NULL);
	CHECK(got != NULL && strcmp(got->kid, a->kid) == 0);
	jwk_free(got);

	e = (struct err){ 0 };
	CHECK(jwk_save_private_pem(b, path, true, &e) == 0);
	CHECK(file_mode(path) == 0600);
	CHECK((got = jwk_load_private_pem(path, &e)) != NULL);
	CHECK(got != NULL && strcmp(got->kid, b->kid) == 0);
	CHECK(dir_entries() == before + 1); /* no *.tmp.* left */
	jwk_free(got);

	/* Public key overwrite keeps 0644 after the rename. */
	CHECK(jwk_save_public_pem(b, path, true, &e) == 0);
	CHECK(file_mode(path) == 0644);
	/* A directory that does not exist is an I/O error naming it. */
	e = (struct err){ 0 };
	CHECK(
	    jwk_save_private_pem(a, "/nonexistent-dir/k.pem", false, &e) == -1);
	CHECK(e.code == ERR_IO && strstr(e.msg, "/nonexistent-dir") != NULL);
	unlink(path);
out:
	jwk_free(a);
	jwk_free(b);
}

/* Only RSA >= 2048, P-256 and Ed25519 become keys (RFC 7518 3.3, 3.4,
 * RFC 8037 3.1). The accepted ones are the roundtrip's controls. */
static void
test_key_acceptance(void)
{
	static const struct {
		const char *type;
		const char *arg;
		const char *why;
	} refused[] = {
		{ "EC", "P-384", "not on P-256" },
		{ "EC", "secp256k1", "not on P-256" },
		{ "ED448", NULL, "ED448 key refused" },
		{ "X25519", NULL, "X25519 key refused" },
	};
	struct err e = { 0 };
	EVP_PKEY *pkey;
	struct jws_key *k;

	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	CHECK(pkey != NULL);
	CHECK(jwk_from_pkey(pkey, &e) == NULL);
	CHECK(e.code == ERR_KEY && strstr(e.msg, "1024") != NULL);

	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		e = (struct err){ 0 };
		if (refused[i].arg != NULL)
			pkey = EVP_PKEY_Q_keygen(
			    NULL, NULL, refused[i].type, refused[i].arg);
		else
			pkey = EVP_PKEY_Q_keygen(NULL, NULL, refused[i].type);
		CHECK(pkey != NULL);
		CHECK(jwk_from_pkey(pkey, &e) == NULL);
		CHECK(e.code == ERR_KEY);
		CHECK(strstr(e.msg, refused[i].why) != NULL);
	}
	/* RSA-PSS keys are another key type, not RS256 keys. */
	e = (struct err){ 0 };
	pkey = NULL;
	{
		EVP_PKEY_CTX *ctx =
		    EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);

		CHECK(ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1 &&
		      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) == 1 &&
		      EVP_PKEY_generate(ctx, &pkey) == 1);
		EVP_PKEY_CTX_free(ctx);
	}
	CHECK(pkey != NULL);
	CHECK(jwk_from_pkey(pkey, &e) == NULL);
	CHECK(e.code == ERR_KEY);
	e = (struct err){ 0 };
	CHECK(jwk_from_pkey(NULL, &e) == NULL);
	CHECK(e.code == ERR_INTERNAL);

	/* Control: a P-256 key from the same call is accepted. */
	e = (struct err){ 0 };
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	CHECK((k = jwk_from_pkey(pkey, &e)) != NULL);
	CHECK(k != NULL && k->alg == JWS_ALG_ES256 && k->has_private);
	jwk_free(k);
}

static void
test_load_pem_errors(void)
{
	struct jws_key *k = NULL;
	char path[512], pub[512], enc[512];
	struct err e = { 0 };
	BIO *bio;

	CHECK(jwk_load_private_pem("/nonexistent/key.pem", &e) == NULL);
	CHECK(e.code == ERR_IO && strstr(e.msg, "/nonexistent/key.pem"));

	tmp_path("garbage.pem", path, sizeof(path));
	write_text(path, "-----BEGIN PRIVATE KEY-----\nAAAA\n"
	                 "-----END PRIVATE KEY-----\n");
	e = (struct err){ 0 };
	CHECK(jwk_load_private_pem(path, &e) == NULL);
	CHECK(e.code == ERR_KEY && strstr(e.msg, path) != NULL);
	write_text(path, "");
	e = (struct err){ 0 };
	CHECK(jwk_load_public_pem(path, &e) == NULL);
	CHECK(e.code == ERR_KEY);
	e = (struct err){ 0 };
	CHECK(jwk_load_public_pem(tmpdir, &e) == NULL); /* a directory */
	CHECK(e.code == ERR_KEY);
	unlink(path);

	/* A public key file is no private key, and the other way round. */
	CHECK((k = jwk_generate(JWS_ALG_ES256, 0, &e)) != NULL);
	if (k == NULL)
		return;
	tmp_path("pub.pem", pub, sizeof(pub));
	tmp_path("priv.pem", path, sizeof(path));
	CHECK(jwk_save_public_pem(k, pub, true, &e) == 0);
	CHECK(jwk_save_private_pem(k, path, true, &e) == 0);
	e = (struct err){ 0 };
	CHECK(jwk_load_private_pem(pub, &e) == NULL);
	CHECK(e.code == ERR_KEY);
	e = (struct err){ 0 };
	CHECK(jwk_load_public_pem(path, &e) == NULL);
	CHECK(e.code == ERR_KEY);

	/* An encrypted PKCS#8 key is refused, never prompted for. */
	tmp_path("enc.pem", enc, sizeof(enc));
	bio = BIO_new_file(enc, "w");
	CHECK(bio != NULL);
	if (bio != NULL) {
		CHECK(PEM_write_bio_PKCS8PrivateKey(bio, k->pkey,
		          EVP_aes_256_cbc(), "secret", 6, NULL, NULL) == 1);
		BIO_free(bio);
	}
	e = (struct err){ 0 };
	CHECK(jwk_load_private_pem(enc, &e) == NULL);
	CHECK(e.code == ERR_KEY);
	unlink(enc);
	unlink(pub);
	unlink(path);
	jwk_free(k);
}

/* The traditional "EC PRIVATE KEY" form is accepted too. */
static void
test_load_traditional_pem(void)
{
	struct jws_key *k = jwk_generate(JWS_ALG_ES256, 0, NULL), *got = NULL;
	OSSL_ENCODER_CTX *ectx = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	char path[512];
	struct err e = { 0 };
	FILE *f;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	ectx = OSSL_ENCODER_CTX_new_for_pkey(
	    k->pkey, EVP_PKEY_KEYPAIR, "PEM", "type-specific", NULL);
	CHECK(ectx != NULL && OSSL_ENCODER_to_data(ectx, &data, &len) == 1);
	CHECK(data != NULL && strstr((char *)data, "BEGIN EC PRIVATE KEY"));
	tmp_path("trad.pem", path, sizeof(path));
	if ((f = fopen(path, "w")) != NULL) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
	chmod(path, 0600);
	CHECK((got = jwk_load_private_pem(path, &e)) != NULL);
	CHECK(got != NULL && strcmp(got->kid, k->kid) == 0);
	unlink(path);
	OPENSSL_free(data);
	OSSL_ENCODER_CTX_free(ectx);
	jwk_free(got);
	jwk_free(k);
}

static void
test_public_from_pem_memory(void)
{
	struct jws_key *k = jwk_generate(JWS_ALG_EDDSA, 0, NULL), *got;
	char path[512], *text;
	struct err e = { 0 };
	size_t len = 0;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	tmp_path("mem.pem", path, sizeof(path));
	CHECK(jwk_save_public_pem(k, path, true, &e) == 0);
	text = read_text(path, &len);
	CHECK((got = jwk_public_from_pem(text, len, &e)) != NULL);
	CHECK(got != NULL && strcmp(got->kid, k->kid) == 0);
	jwk_free(got);
	e = (struct err){ 0 };
	CHECK(jwk_public_from_pem("not a key", 9, &e) == NULL);
	CHECK(e.code == ERR_KEY);
	e = (struct err){ 0 };
	CHECK(jwk_public_from_pem(text, len / 2, &e) == NULL);
	CHECK(e.code == ERR_KEY);
	unlink(path);
	free(text);
	jwk_free(k);
}

/* A valid P-256 JWK from the generator, as text with one member replaced. */
static char *
ec_jwk_with(const char *name, const char *value)
{
	struct jws_key *k = jwk_generate(JWS_ALG_ES256, 0, NULL);
	struct json_object *jwk = k != NULL ? jwk_to_json(k) : NULL;
	char *text = NULL;

	if (jwk != NULL) {
		if (name != NULL)
			json_object_object_add(
			    jwk, name, json_object_new_string(value));
		text = strdup(json_object_to_json_string_ext(
		    jwk, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(jwk);
	jwk_free(k);
	return text;
}

static void
expect_refused(const char *text, const char *why)
{
	struct err e = { 0 };
	struct jws_key *k = jwk_text(text, &e);

	CHECK(k == NULL);
	CHECK(e.code == ERR_KEY);
	if (k != NULL || e.code != ERR_KEY || strstr(e.msg, why) == NULL)
		fprintf(stderr, "  JWK %.60s...: got \"%s\", want \"%s\"\n",
		    text, e.msg, why);
	jwk_free(k);
}

static void
test_jwk_import_rejections(void)
{
	struct jws_key *k, *ctl;
	struct json_object *jwk;
	struct err e = { 0 };
	char *text, *good;
	char buf[1024];

	/* Control: the unmodified JWK is accepted. */
	good = ec_jwk_with(NULL, NULL);
	CHECK(good != NULL && (ctl = jwk_text(good, &e)) != NULL);
	if (good == NULL || ctl == NULL)
		return;
	CHECK(ctl->alg == JWS_ALG_ES256);

	/* A point not on the curve: y changed in its top bits. For one x,
	 * only y and p - y are on the curve. */
	text = ec_jwk_with(NULL, NULL);
	jwk = jwk_to_json(ctl);
	{
		char *p = text != NULL ? strstr(text, "\"y\":\"") : NULL;

		CHECK(p != NULL);
		if (p != NULL)
			p[5] = p[5] == 'A' ? 'B' : 'A';
	}
	expect_refused(text, "not a valid EC public key");
	free(text);

	text = ec_jwk_with("crv", "P-384");
	expect_refused(text, "P-256");
	free(text);
	text = ec_jwk_with("x", "AAAA");
	expect_refused(text, "32 octets");
	free(text);
	snprintf(buf, sizeof(buf), "%s=", member(jwk, "x"));
	text = ec_jwk_with("x", buf); /* padding is not base64url */
	expect_refused(text, "base64url");
	free(text);
	text = ec_jwk_with("use", "enc");
	expect_refused(text, "use");
	free(text);
	text = ec_jwk_with("alg", "RS256");
	expect_refused(text, "alg");
	free(text);
	text = ec_jwk_with("alg", "none");
	expect_refused(text, "alg");
	free(text);
	text = ec_jwk_with("kty", "oct");
	expect_refused(text, "not supported");
	free(text);
	text = ec_jwk_with("kid", "");
	expect_refused(text, "kid");
	free(text);
	snprintf(buf, sizeof(buf), "%.*s", JWK_KID_MAX + 1,
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "456789");
	text = ec_jwk_with("kid", buf);
	expect_refused(text, "kid");
	free(text);

	/* key_ops must allow verify (RFC 7517 section 4.3). */
	json_object_object_add(jwk, "key_ops", json_object_new_array());
	json_object_array_add(json_object_object_get(jwk, "key_ops"),
	    json_object_new_string("encrypt"));
	expect_refused(json_object_to_json_string(jwk), "key_ops");
	json_object_array_add(json_object_object_get(jwk, "key_ops"),
	    json_object_new_string("verify"));
	e = (struct err){ 0 };
	CHECK((k = jwk_text(json_object_to_json_string(jwk), &e)) != NULL);
	jwk_free(k);
	json_object_object_add(jwk, "kid", json_object_new_int(7));
	expect_refused(json_object_to_json_string(jwk), "kid");

	/* RSA: even or unit exponent, zero-led modulus, short modulus. */
	expect_refused(
	    "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", "2048");
	expect_refused("{\"kty\":\"RSA\",\"e\":\"AQAB\"}", "\"n\" missing");
	expect_refused(
	    "{\"kty\":\"RSA\",\"n\":\"AAEC\",\"e\":\"AQAB\"}", "zero-led");
	expect_refused("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":"
	               "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
	    "Ed25519");
	expect_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}",
	    "32 octets");
	expect_refused("[]", "not an object");
	expect_refused("{\"kty\":7}", "kty");
	json_object_put(jwk);
	free(good);
	jwk_free(ctl);
}

/* The RFC 7638 example key with e changed: the modulus stays valid. */
static void
test_rsa_exponent_rules(void)
{
	struct json_object *v = vector("rfc7638_3_1.json"), *jwk = NULL;
	struct jws_key *k;
	struct err e = { 0 };
	char buf[1024];
	const char *n;

	json_object_object_get_ex(v, "jwk", &jwk);
	n = member(jwk, "n");
	snprintf(buf, sizeof(buf),
	    "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAA\"}", n);
	expect_refused(buf, "odd"); /* 65536 */
	snprintf(
	    buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQ\"}", n);
	expect_refused(buf, "odd"); /* 1 */
	snprintf(buf, sizeof(buf),
	    "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AAEAAQ\"}", n);
	expect_refused(buf, "zero-led");
	/* Control: e = 65537, and a private member that is ignored. */
	snprintf(buf, sizeof(buf),
	    "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\",\"d\":\"AQAB\"}", n);
	CHECK((k = jwk_text(buf, &e)) != NULL);
	CHECK(k != NULL && !k->has_private);
	CHECK(
	    k != NULL &&
	    strcmp(k->kid, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs") == 0);
	jwk_free(k);
	json_object_put(v);
}

/* A world-readable private key still loads (with a warning in the log). */
static void
test_private_key_mode_is_not_fatal(void)
{
	struct jws_key *k = jwk_generate(JWS_ALG_EDDSA, 0, NULL), *got;
	char path[512];
	struct err e = { 0 };

	CHECK(k != NULL);
	if (k == NULL)
		return;
	tmp_path("open.pem", path, sizeof(path));
	CHECK(jwk_save_private_pem(k, path, false, &e) == 0);
	chmod(path, 0644);
	CHECK((got = jwk_load_private_pem(path, &e)) != NULL);
	jwk_free(got);
	unlink(path);
	jwk_free(k);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	RUN(test_alg_names);
	RUN(test_rfc7638_thumbprint);
	RUN(test_rfc8037_thumbprint);
	RUN(test_generate_save_load_roundtrip);
	RUN(test_generate_rejects_bad_sizes);
	RUN(test_save_never_clobbers);
	RUN(test_key_acceptance);
	RUN(test_load_pem_errors);
	RUN(test_load_traditional_pem);
	RUN(test_public_from_pem_memory);
	RUN(test_jwk_import_rejections);
	RUN(test_rsa_exponent_rules);
	RUN(test_private_key_mode_is_not_fatal);
	rmdir(tmpdir);
	return test_report();
}
