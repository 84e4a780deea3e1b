/* jws_key: algorithm names and the per-key contexts prepared once. */
#include "jws_key.h"

#include <pthread.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

const char *
jws_alg_name(enum jws_alg alg)
{
	switch (alg) {
	case JWS_ALG_RS256:
		return "RS256";
	case JWS_ALG_ES256:
		return "ES256";
	case JWS_ALG_EDDSA:
		return "EdDSA";
	default:
		return NULL;
	}
}

enum jws_alg
jws_alg_from_name(const char *name, size_t len)
{
	static const enum jws_alg algs[] = { JWS_ALG_RS256, JWS_ALG_ES256,
		JWS_ALG_EDDSA };

	if (name == NULL)
		return JWS_ALG_UNKNOWN;
	/* RFC 7515 section 4.1.1: alg is case-sensitive. */
	for (size_t i = 0; i < sizeof(algs) / sizeof(*algs); i++) {
		const char *s = jws_alg_name(algs[i]);

		if (strlen(s) == len && memcmp(s, name, len) == 0)
			return algs[i];
	}
	return JWS_ALG_UNKNOWN;
}

static EVP_MD *jws_sha256;
static pthread_once_t jws_sha256_once = PTHREAD_ONCE_INIT;

static void
jws_sha256_fetch(void)
{
	jws_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

/* SHA-256, fetched from the provider once and kept for the process: a
 * fetch by name costs a locked lookup on every call. A fetched EVP_MD is
 * immutable and may be shared between threads (crypto(7), "Fetching
 * algorithms"). NULL if the provider has none. */
const EVP_MD *
jws_key_sha256(void)
{
	pthread_once(&jws_sha256_once, jws_sha256_fetch);
	return jws_sha256;
}

/* A context for key with init (EVP_PKEY_sign_init or EVP_PKEY_verify_init)
 * done and SHA-256 and, for RS256, RSASSA-PKCS1-v1_5 (RFC 7518 section
 * 3.3, never PSS) set. NULL on failure. */
static EVP_PKEY_CTX *
jws_template(const struct jws_key *key, int (*init)(EVP_PKEY_CTX *))
{
	EVP_PKEY_CTX *ctx = NULL;
	const EVP_MD *md;
	bool ok;

	ok =
	    (md = jws_key_sha256()) != NULL &&
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL)) != NULL &&
	    init(ctx) == 1 && EVP_PKEY_CTX_set_signature_md(ctx, md) == 1;
	if (ok && key->alg == JWS_ALG_RS256)
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
	if (!ok) {
		EVP_PKEY_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

int
jws_key_prepare(struct jws_key *key, struct err *e)
{
	/* Ed25519 signs the message itself, not a digest (RFC 8032 5.1.6):
	 * it keeps the one-shot EVP_DigestSign and EVP_DigestVerify. */
	if (key->alg != JWS_ALG_RS256 && key->alg != JWS_ALG_ES256)
		return 0;
	if ((key->verify_template = jws_template(key, EVP_PKEY_verify_init)) ==
	        NULL ||
	    (key->has_private && (key->sign_template = jws_template(
	                              key, EVP_PKEY_sign_init)) == NULL)) {
		ERR_clear_error();
		return err_set(e, ERR_INTERNAL, "jws: cannot set up %s",
		    jws_alg_name(key->alg));
	}
	return 0;
}
