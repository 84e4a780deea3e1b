/* fuzz_verify: arbitrary bytes as an access token through
 * verify_access_token(), the one verification policy, against a fixed key
 * set (one RS256, one ES256 and one EdDSA key, below) and a fixed clock.
 * Beyond "no crash, no leak, no undefined behaviour": a failure always
 * carries an error code and no token; an accepted token is unexpired at the
 * fixed clock, has a non-empty subject, carries NUL-terminated copies of its
 * strings, and stops verifying when one character of its signature
 * changes.
 *
 * An input starting with 'S' is a payload instead: the rest is signed with
 * the EdDSA key under a valid header, so the code behind the signature
 * check (payload JSON, claims, the token's own claims) sees arbitrary
 * bytes too, which a mutated token would never get past the signature.
 *
 * With FUZZ_VERIFY_SEED_DIR set, the first run writes tokens signed with
 * these keys into that directory (fuzz/run.sh does this), so the seed
 * corpus always matches the keys. */
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "claims.h"
#include "jwk.h"
#include "jwks.h"
#include "jws.h"
#include "verify.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW INT64_C(1700000000)
#define FUZZ_ISSUER "https://auth.example"
#define FUZZ_AUDIENCE "resource_service"

/* Test keys for fuzzing only: committed so that seed tokens stay valid
 * from run to run. Never use them for anything else. */
static const char fuzz_rs256_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEuwIBADANBgkqhkiG9w0BAQEFAASCBKUwggShAgEAAoIBAQC0jt+sb2jDMGXX\n"
    "EX+EDQ0nATymKwrmpMsqrT3itPEmsRmFETzthUORUas2B3D2ZuWRz7Xvo8T0bPTn\n"
    "nLhznTQJabjx5SMlr/CWD+I1dZ/Q/Nkz0E88D0Zxytl0P3kR2tQP3FiU/i+6mCq7\n"
    "t7uCjEVXcY0XZEuKqlEOJiVFM45KeOZSnijJrWtS/NAPpoNMahDcNgbSt+7/BH68\n"
    "JWr6Nu/JgvoLiNN3+3pdrmYG7D4FuS25WmGrmejCxW02ZlBrvwNRjIZIypCCRCU4\n"
    "BRy2ZDWLj807IilDbj3OHBrx7dyQ/Y5T7r0rS11HkIJMvvQciCPryExhH+BCGZBx\n"
    "8dVlNckDAgMBAAECgf84qJzdKhi10iTNrbAAwBe10Fg3zJ9JwRdVTQfJHFPlewLc\n"
    "aYxfpxyM0r6R4G6SOQ0mXwe4gKuiso4ndVvBlpMTC8SoI5SOlFHqxRE3CrIb4pGb\n"
    "W22BwJ6vwU0mLW97Ktq2H28B/MGoIW1HerWx7FKAyMvS4KYpMp480mY0+6NVur0I\n"
    "V18Nvx2A+k0hridKresVRQfsNvmMl7LyujvIjaUMA9L6Xrome/GDFiPvuv79Zzp6\n"
    "IIT9eButA29jrRV/7li2YUMM7TWA+rNAl8PPn7zelyeFD26STPMGhm7TQ+dIl80b\n"
    "5OJ0rw1blcIzS7bsWoqqIbHIBzqGs+TYusGl+MkCgYEA9kzX9Y53dasCZOYH5JVa\n"
    "KmKLopipJh46l3EOITXI8V4JLr5++NakMrok3Pj1RGCgHwF220rRg6tTftCWO3mN\n"
    "9wNsRcy+7gwdcGZqwlBNe92kZ+hMQVW/p6tU46E+uHerjn5E7cNab0WCFuXIVC6k\n"
    "RmNHUyNcbVRIwmGGr0ryPaUCgYEAu6s60l7zj/IJ6TiMtzxf9hqG+WPDsTLlywOf\n"
    "vPxYcmpvlSYt2PjVY0TnDtLkEefPETlpYNOKeM/jPMg/K8FH2FRPEn+xlFfO89Cr\n"
    "S01685eg9n/T73mwHRBFOWKkUiacFgd/V1Hyf2cQLFoLFBPp0cpXdtzryEQTcxXe\n"
    "Etcle4cCgYBYISLdEH8aMXiH1e9ZET/UDrLcGTfdFc/tRFzD8VTXWMh8W1lffJ4A\n"
    "MK7kCojoUJK6xXFcAid5r6IOrGA1I8dybV0elKZ00wztnRfyM32mJqafL3Wpox8S\n"
    "xbF4ScgBhYBzWicb1FzVl892lf3acV4CeZ+Z1ftKe3AVbYQd0PlgqQKBgQC62ZJY\n"
    "UGeKYz8Q8NfRvJACtYi7l2QI8pcumW4auNjLGkP8qSWuyJmVG849ySWA2l8lVBci\n"
    "a5yMCtfB9dJHm0oQDmkoDvFctEx+Hr3d3MfU7pw5sS3vWiZJ2aBCsX7PuFdh65cS\n"
    "9qlNxeypbAFpvSXpVd/dnbo4C+edhyEzevh70wKBgFMtrgSCIk1Zyr/WCYtSxUT8\n"
    "MVZx1zp2X9YnUy4ypngvP4VixDE4vMqISUsN9mO0jpgxb1ppMdPhQHsXZwKZ2Nvm\n"
    "rgqPyMdk5QcmRYTH1uEk5zkvwGshz1NTHuAvJht+mUecjaSfWDVX1lioxctexQcw\n"
    "73fTLX3j5DJUyBmlMXAc\n"
    "-----END PRIVATE KEY-----\n";

static const char fuzz_es256_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgfIV4ltasKfxthEen\n"
    "e+W+fm0qG16t4BMvO5KucvAEZ8ShRANCAARhaQfDrAIpYbugmv+AQtaOVzdf9idt\n"
    "VMGADyDrKEjaH1ATULaFE3nsislfK3skzzdix3qMnVOWEllPmjs0yzP4\n"
    "-----END PRIVATE KEY-----\n";

static const char fuzz_eddsa_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIE7HTOZTB1W/wL/8GZuug5dUiTYxZV5NicJZnMSykcg/\n"
    "-----END PRIVATE KEY-----\n";

#define FUZZ_SIGNED_MODE 'S'

static struct jws_key *fuzz_signers[3];
static char *fuzz_eddsa_header; /* base64url, for the signed mode */
static struct jwks *fuzz_keys;
static struct verify_policy fuzz_policy;

static void fuzz_die(const char *what, const struct err *e)
    __attribute__((noreturn));

static void
fuzz_die(const char *what, const struct err *e)
{
	fprintf(stderr, "fuzz_verify: %s: %s\n", what,
	    e != NULL ? e->msg : "failed");
	abort();
}

static int64_t
fuzz_clock(void *arg)
{
	(void)arg;
	return FUZZ_NOW;
}

static struct jws_key *
fuzz_load_private(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pkey = NULL;
	struct jws_key *k;
	struct err e = { 0 };

	if (bio == NULL ||
	    (pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL)
		fuzz_die("private key PEM", NULL);
	BIO_free(bio);
	if ((k = jwk_from_pkey(pkey, &e)) == NULL)
		fuzz_die("jwk_from_pkey", &e);
	return k;
}

/* The verifier gets only public keys, as the resource service does. */
static struct jws_key *
fuzz_public_half(const struct jws_key *k)
{
	BIO *bio = BIO_new(BIO_s_mem());
	struct jws_key *pub;
	char *pem = NULL;
	long n = 0;
	struct err e = { 0 };

	if (bio == NULL || PEM_write_bio_PUBKEY(bio, k->pkey) != 1 ||
	    (n = BIO_get_mem_data(bio, &pem)) <= 0)
		fuzz_die("public key PEM", NULL);
	if ((pub = jwk_public_from_pem(pem, (size_t)n, &e)) == NULL)
		fuzz_die("jwk_public_from_pem", &e);
	BIO_free(bio);
	return pub;
}

static void
fuzz_write_seed(const char *dir, const char *name, const struct jws_key *k,
    const char *typ, const char *payload)
{
	struct json_object *claims = json_tokener_parse(payload);
	char path[4096], *token = NULL;
	struct err e = { 0 };
	FILE *f;

	if (claims == NULL)
		fuzz_die("seed payload", NULL);
	if (jws_sign(k, typ, claims, &token, &e) == -1)
		fuzz_die("jws_sign", &e);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL ||
	    fwrite(token, 1, strlen(token), f) != strlen(token) ||
	    fclose(f) != 0)
		fuzz_die(path, NULL);
	free(token);
	json_object_put(claims);
}

#define SEED_CLAIMS(extra)                                                     \
	"{\"iss\":\"" FUZZ_ISSUER "\",\"aud\":\"" FUZZ_AUDIENCE "\","          \
	"\"sub\":\"user1\",\"client_id\":\"auth_service\","                    \
	"\"iat\":1699999900,\"nbf\":1699999900,\"exp\":1700000800,"            \
	"\"jti\":\"0123456789abcdef\",\"username\":\"user1\","                 \
	"\"roles\":[\"user\"],\"permissions\":[\"read:data\"],"                \
	"\"scope\":\"read:data\"" extra "}"

static void
fuzz_write_file(const char *dir, const char *name, const char *a, const char *b)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(a, f) == EOF ||
	    fputs(b, f) == EOF || fclose(f) != 0)
		fuzz_die(path, NULL);
}

static void
fuzz_write_seeds(const char *dir)
{
	static const char *const names[] = { "rs256", "es256", "eddsa" };
	char name[64];

	for (int i = 0; i < 3; i++) {
		const struct jws_key *k = fuzz_signers[i];

		snprintf(name, sizeof(name), "valid_%s", names[i]);
		fuzz_write_seed(dir, name, k, "at+jwt", SEED_CLAIMS(""));
		snprintf(name, sizeof(name), "expired_%s", names[i]);
		fuzz_write_seed(dir, name, k, "at+jwt",
		    "{\"iss\":\"" FUZZ_ISSUER "\",\"aud\":\"" FUZZ_AUDIENCE
		    "\",\"sub\":\"u\",\"exp\":1600000000,"
		    "\"permissions\":[]}");
	}
	fuzz_write_seed(dir, "admin_es256", fuzz_signers[1],
	    "application/at+jwt",
	    "{\"iss\":\"" FUZZ_ISSUER "\",\"aud\":[\"other\",\"" FUZZ_AUDIENCE
	    "\"],\"sub\":\"admin\",\"exp\":1700000800.5,"
	    "\"roles\":[\"admin\",\"user\"],\"permissions\":[\"read:data\","
	    "\"read:admin_panel\",\"write:admin_panel\",\"delete:users\","
	    "\"read:data\\u0000x\"]}");
	fuzz_write_seed(
	    dir, "typ_jwt_eddsa", fuzz_signers[2], "JWT", SEED_CLAIMS(""));
	fuzz_write_file(dir, "signed_payload", "S", SEED_CLAIMS(""));
	fuzz_write_file(dir, "signed_payload_dup_aud", "S",
	    SEED_CLAIMS(",\"aud\":[\"x\",\"" FUZZ_AUDIENCE "\"]"));
	fuzz_write_seed(dir, "wrong_aud_rs256", fuzz_signers[0], "at+jwt",
	    "{\"iss\":\"" FUZZ_ISSUER "\",\"aud\":\"elsewhere\",\"sub\":\"u\","
	    "\"exp\":1700000800,\"permissions\":[\"read:data\"]}");
}

/* base64url of {"alg":...,"typ":"at+jwt","kid":...} for key k. */
static char *
fuzz_header(const struct jws_key *k)
{
	char text[256];
	int n = snprintf(text, sizeof(text),
	    "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}",
	    jws_alg_name(k->alg), k->kid);

	if (n < 0 || (size_t)n >= sizeof(text))
		return NULL;
	return b64url_encode(text, (size_t)n);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const pems[] = { fuzz_rs256_pem, fuzz_es256_pem,
		fuzz_eddsa_pem };
	const char *seed_dir = getenv("FUZZ_VERIFY_SEED_DIR");
	struct err e = { 0 };

	(void)argc;
	(void)argv;
	if ((fuzz_keys = jwks_new()) == NULL)
		fuzz_die("jwks_new", NULL);
	for (int i = 0; i < 3; i++) {
		fuzz_signers[i] = fuzz_load_private(pems[i]);
		if (jwks_add(
		        fuzz_keys, fuzz_public_half(fuzz_signers[i]), &e) == -1)
			fuzz_die("jwks_add", &e);
	}
	fuzz_policy = (struct verify_policy){ .keys = fuzz_keys,
		.issuer = FUZZ_ISSUER,
		.audience = FUZZ_AUDIENCE,
		.leeway = CLAIMS_DEFAULT_LEEWAY,
		.now = fuzz_clock };
	if ((fuzz_eddsa_header = fuzz_header(fuzz_signers[2])) == NULL)
		fuzz_die("header", NULL);
	if (seed_dir != NULL)
		fuzz_write_seeds(seed_dir);
	return 0;
}

static bool
fuzz_str_ok(const struct verify_str *s)
{
	return s->s == NULL ? s->len == 0 : s->s[s->len] == '\0';
}

/* Properties of a token that verified. */
static void
fuzz_check_accepted(
    const uint8_t *data, size_t size, const struct access_token *t)
{
	struct access_token *again = NULL;
	const uint8_t *dot;
	uint8_t *copy;
	struct err e = { 0 };

	if (FUZZ_NOW >= t->exp + CLAIMS_DEFAULT_LEEWAY || t->sub.len == 0 ||
	    !fuzz_str_ok(&t->sub) || !fuzz_str_ok(&t->username) ||
	    !fuzz_str_ok(&t->jti) || !fuzz_str_ok(&t->client_id) ||
	    !fuzz_str_ok(&t->kid))
		abort();
	for (size_t i = 0; i < t->n_permissions; i++) {
		const struct verify_str *p = &t->permissions[i];

		if (!fuzz_str_ok(p) ||
		    !access_token_has_permission(t, p->s, p->len))
			abort();
	}
	for (size_t i = 0; i < t->n_roles; i++)
		if (!fuzz_str_ok(&t->roles[i]))
			abort();

	/* One character of the signature changed: never accepted. */
	if ((dot = memrchr(data, '.', size)) == NULL || dot + 1 >= data + size)
		abort();
	if ((copy = malloc(size)) == NULL)
		abort();
	memcpy(copy, data, size);
	copy[dot + 1 - data] = copy[dot + 1 - data] == 'A' ? 'B' : 'A';
	if (verify_access_token(
	        (const char *)copy, size, &fuzz_policy, &again, &e) == 0)
		abort();
	free(copy);
}

/* The same steps over json-c (jws_verify and the json-c claims checks, as
 * explain.c runs them): the error code of the first that fails, ERR_OK if
 * all pass. verify_access_token reads the token with jose_reader instead,
 * and must fail with the same code (or, past these steps, only with
 * ERR_TOKEN_CLAIMS for its own claims). */
static enum err_code
fuzz_json_c_steps(const uint8_t *data, size_t size)
{
	struct json_object *h = NULL, *p = NULL;
	struct claims_policy cp = { .issuer = FUZZ_ISSUER,
		.audience = FUZZ_AUDIENCE,
		.leeway = CLAIMS_DEFAULT_LEEWAY };
	struct claims c;
	struct err e = { 0 };

	if (jws_verify((const char *)data, size, fuzz_policy.keys, &h, &p, NULL,
	        &e) == 0 &&
	    claims_check_typ(h, &e) == 0 && claims_parse(p, &c, &e) == 0)
		claims_check(&c, &cp, FUZZ_NOW, &e);
	json_object_put(h);
	json_object_put(p);
	return e.code;
}

static void
fuzz_token(const uint8_t *data, size_t size)
{
	struct access_token *t = NULL;
	struct err e = { 0 };
	enum err_code ref = fuzz_json_c_steps(data, size);
	int rc =
	    verify_access_token((const char *)data, size, &fuzz_policy, &t, &e);

	if (ref != ERR_OK ? e.code != ref
	                  : e.code != ERR_OK && e.code != ERR_TOKEN_CLAIMS)
		abort();
	if (rc == -1) {
		if (t != NULL || e.code == ERR_OK)
			abort();
		return;
	}
	if (t == NULL || e.code != ERR_OK)
		abort();
	fuzz_check_accepted(data, size, t);
	access_token_free(t);
}

/* header.base64url(payload).signature, signed with the EdDSA key. */
static void
fuzz_signed_payload(const uint8_t *payload, size_t size)
{
	size_t hlen = strlen(fuzz_eddsa_header), plen, slen;
	char *p64 = NULL, *s64 = NULL, *token = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	struct err e = { 0 };

	if ((p64 = b64url_encode(payload, size)) == NULL)
		abort();
	plen = strlen(p64);
	if ((token = malloc(hlen + 1 + plen + 1 + 128)) == NULL)
		abort();
	memcpy(token, fuzz_eddsa_header, hlen);
	token[hlen] = '.';
	memcpy(token + hlen + 1, p64, plen);
	if (jws_sign_raw(fuzz_signers[2], (const unsigned char *)token,
	        hlen + 1 + plen, &sig, &siglen, &e) == -1 ||
	    (s64 = b64url_encode(sig, siglen)) == NULL ||
	    (slen = strlen(s64)) >= 128)
		abort();
	token[hlen + 1 + plen] = '.';
	memcpy(token + hlen + 1 + plen + 1, s64, slen);
	fuzz_token((const uint8_t *)token, hlen + 1 + plen + 1 + slen);
	free(token);
	free(s64);
	free(sig);
	free(p64);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == FUZZ_SIGNED_MODE)
		fuzz_signed_payload(data + 1, size - 1);
	else
		fuzz_token(data, size);
	return 0;
}
