/* jwk: one signing or verification key. PEM files in and out, public JWK
 * out (JWK in lives in jwks.c, with the rest of the JSON import), and the
 * kid, which is the RFC 7638 thumbprint. Every key passes
 * through jwk_from_pkey, so every source (file, JWKS, generator) is held to
 * the same rules: RSA >= 2048 bits, P-256 or Ed25519, and a public key that
 * passes OpenSSL's validation. */
#include "jwk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "b64url.h"
#include "file_util.h"
#include "json_util.h"
#include "log.h"

/* e is normally 65537; OpenSSL refuses larger exponents for big moduli
 * anyway, and a huge one only makes verification slower. */
#define JWK_RSA_MAX_E_BITS 64
#define JWK_P256_COORD_LEN 32  /* RFC 7518 section 6.2.1.2 */
#define JWK_ED25519_LEN 32     /* RFC 8037 section 2 */
#define JWK_PEM_MAX_FILE 65536 /* 64 KiB: an 8192-bit RSA key is ~6 KiB */
#define JWK_MAX_MEMBERS 4      /* the required members, kty included */

/* The required public members of a JWK (RFC 7638 section 3.2), already in
 * lexicographic order of their names, as the thumbprint needs them. */
struct jwk_public {
	size_t n;
	const char *name[JWK_MAX_MEMBERS];
	const char *value[JWK_MAX_MEMBERS];
	char *owned[JWK_MAX_MEMBERS]; /* the base64url values, freed */
};

/* The last OpenSSL reason, for the log; the queue is cleared so that a
 * failure here never shows up in an unrelated later call. */
static const char *
ossl_reason(void)
{
	unsigned long code = ERR_peek_last_error();
	const char *r = code != 0 ? ERR_reason_error_string(code) : NULL;

	ERR_clear_error();
	return r != NULL ? r : "no detail";
}

static int
ec_is_p256(const EVP_PKEY *pkey)
{
	char group[64];
	size_t len = 0;

	/* Keys with explicit curve parameters have no group name: refused,
	 * since a look-alike curve could hide weak parameters. */
	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	        group, sizeof(group), &len) != 1)
		return 0;
	return OBJ_sn2nid(group) == NID_X9_62_prime256v1 ||
	       EC_curve_nist2nid(group) == NID_X9_62_prime256v1;
}

static int
rsa_check_e(const EVP_PKEY *pkey, struct err *e)
{
	BIGNUM *pub_e = NULL;
	int rc = -1;

	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &pub_e) != 1) {
		err_set(e, ERR_KEY, "RSA key without a public exponent");
		goto out;
	}
	/* RFC 8017 section 3.1: e is odd and 3 <= e. */
	if (!BN_is_odd(pub_e) || BN_is_one(pub_e) ||
	    BN_num_bits(pub_e) > JWK_RSA_MAX_E_BITS) {
		err_set(e, ERR_KEY,
		    "RSA public exponent must be odd, > 1 and "
		    "at most 64 bits");
		goto out;
	}
	rc = 0;
out:
	BN_free(pub_e);
	return rc;
}

/* The algorithm is a property of the key (RFC 8725 section 3.1). */
static int
jwk_classify(const EVP_PKEY *pkey, enum jws_alg *alg, struct err *e)
{
	int bits;

	*alg = JWS_ALG_UNKNOWN;
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		bits = EVP_PKEY_get_bits(pkey);
		/* RFC 7518 section 3.3: 2048 bits or larger. */
		if (bits < JWK_RSA_MIN_BITS)
			return err_set(e, ERR_KEY,
			    "RSA key of %d bits: RS256 needs at least %d", bits,
			    JWK_RSA_MIN_BITS);
		if (bits > JWK_RSA_MAX_BITS)
			return err_set(e, ERR_KEY,
			    "RSA key of %d bits: at most %d are accepted", bits,
			    JWK_RSA_MAX_BITS);
		if (rsa_check_e(pkey, e) == -1)
			return -1;
		*alg = JWS_ALG_RS256;
	} else if (EVP_PKEY_is_a(pkey, "EC")) {
		/* RFC 7518 section 3.4: ES256 is ECDSA over P-256 only. */
		if (!ec_is_p256(pkey))
			return err_set(e, ERR_KEY,
			    "EC key not on P-256: only ES256 is supported");
		*alg = JWS_ALG_ES256;
	} else if (EVP_PKEY_is_a(pkey, "ED25519")) {
		*alg = JWS_ALG_EDDSA; /* RFC 8037 section 3.1 */
	} else {
		const char *type = EVP_PKEY_get0_type_name(pkey);

		return err_set(e, ERR_KEY,
		    "%s key refused: use RSA >= 2048 bits, EC P-256 or Ed25519",
		    type != NULL ? type : "unknown");
	}
	return 0;
}

/* OpenSSL's own checks: the EC point is on the curve and in the subgroup,
 * the RSA modulus is odd and composite-looking, and so on. */
static int
jwk_check_public(EVP_PKEY *pkey, struct err *e)
{
	EVP_PKEY_CTX *ctx = NULL;
	int ok;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		return err_set(e, ERR_NOMEM, "key check: out of memory");
	ok = EVP_PKEY_public_check(ctx);
	EVP_PKEY_CTX_free(ctx);
	if (ok != 1)
		return err_set(e, ERR_KEY, "public key fails validation: %s",
		    ossl_reason());
	return 0;
}

static bool
jwk_pkey_has_private(const EVP_PKEY *pkey, enum jws_alg alg)
{
	BIGNUM *bn = NULL;
	size_t len = 0;
	bool has = false;

	switch (alg) {
	case JWS_ALG_RS256:
		has = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &bn) ==
		      1;
		break;
	case JWS_ALG_ES256:
		has = EVP_PKEY_get_bn_param(
		          pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn) == 1;
		break;
	case JWS_ALG_EDDSA:
		has = EVP_PKEY_get_raw_private_key(pkey, NULL, &len) == 1 &&
		      len == JWK_ED25519_LEN;
		break;
	default:
		break;
	}
	BN_clear_free(bn);
	ERR_clear_error();
	return has;
}

struct jws_key *
jwk_from_pkey(EVP_PKEY *pkey, struct err *e)
{
	struct jws_key *k = NULL;

	if (pkey == NULL) {
		err_set(e, ERR_INTERNAL, "jwk_from_pkey: no key");
		return NULL;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		err_set(e, ERR_NOMEM, "key: out of memory");
		return NULL;
	}
	k->pkey = pkey;
	if (jwk_classify(k->pkey, &k->alg, e) == -1 ||
	    jwk_check_public(k->pkey, e) == -1 ||
	    jwk_thumbprint(k->pkey, k->kid, e) == -1) {
		jwk_free(k);
		return NULL;
	}
	k->has_private = jwk_pkey_has_private(k->pkey, k->alg);
	if (jws_key_prepare(k, e) == -1) {
		jwk_free(k);
		return NULL;
	}
	return k;
}

void
jwk_free(struct jws_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_CTX_free(k->verify_template);
	EVP_PKEY_CTX_free(k->sign_template);
	EVP_PKEY_free(k->pkey);
	free(k);
}

/* Never prompt on a terminal for an encrypted key: a daemon has no one to
 * ask, and an encrypted key file is a configuration error here. */
static int
jwk_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

/* Reads a whole PEM file (bounded) into *buf and its permission bits into
 * *mode; the caller wipes and frees. */
static int
jwk_read_file(
    const char *path, char **buf, size_t *len, mode_t *mode, struct err *e)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	ssize_t n;
	int fd = -1, rc = -1;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > JWK_PEM_MAX_FILE) {
		err_set(e, ERR_KEY, "%s: not a regular file of 1..%d bytes",
		    path, JWK_PEM_MAX_FILE);
		goto out;
	}
	*mode = st.st_mode & 0777;
	if ((data = malloc((size_t)st.st_size + 1)) == NULL) {
		err_set(e, ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, data + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break; /* shrank while we read: parse what is there */
		got += (size_t)n;
	}
	data[got] = '\0';
	*buf = data;
	*len = got;
	data = NULL;
	rc = 0;
out:
	if (data != NULL) {
		sodium_memzero(data, (size_t)st.st_size + 1);
		free(data);
	}
	if (fd != -1)
		close(fd);
	return rc;
}

static EVP_PKEY *
jwk_pem_decode(const char *pem, size_t len, bool private_key)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio;

	if (len > INT_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NULL;
	/* PEM_read_bio_PrivateKey takes PKCS#8 and the traditional
	 * "RSA/EC PRIVATE KEY" forms; PEM_read_bio_PUBKEY takes SPKI. */
	if (private_key)
		pkey = PEM_read_bio_PrivateKey_ex(
		    bio, NULL, jwk_no_passphrase, NULL, NULL, NULL);
	else
		pkey = PEM_read_bio_PUBKEY_ex(
		    bio, NULL, jwk_no_passphrase, NULL, NULL, NULL);
	BIO_free(bio);
	return pkey;
}

static struct jws_key *
jwk_load_pem(const char *path, bool private_key, struct err *e)
{
	struct jws_key *k = NULL;
	struct err inner = { 0 };
	EVP_PKEY *pkey;
	char *pem = NULL;
	size_t len = 0;
	mode_t mode = 0;

	if (jwk_read_file(path, &pem, &len, &mode, e) == -1)
		goto out;
	if ((pkey = jwk_pem_decode(pem, len, private_key)) == NULL) {
		err_set(e, ERR_KEY, "%s: not a PEM %s key (%s)", path,
		    private_key ? "private (PKCS#8)" : "public (SPKI)",
		    ossl_reason());
		goto out;
	}
	/* The reason alone does not say which file: name it. */
	if ((k = jwk_from_pkey(pkey, &inner)) == NULL) {
		err_set(e, inner.code, "%s: %s", path, inner.msg);
		goto out;
	}
	if (private_key && !k->has_private) {
		err_set(e, ERR_KEY, "%s: no private key in the file", path);
		jwk_free(k);
		k = NULL;
		goto out;
	}
	/* A private key others can read is no longer private; say so, but a
	 * deployment may have reasons (a group-readable secret mount). Only
	 * for a key that loads: a bad file gets its one error line. */
	if (private_key && (mode & (S_IRWXG | S_IRWXO)) != 0)
		log_msg(LOG_WARN,
		    "%s: private key is accessible to group or "
		    "others (mode %03o); 0600 is expected",
		    path, (unsigned)mode);
out:
	if (pem != NULL) {
		sodium_memzero(pem, len);
		free(pem);
	}
	return k;
}

struct jws_key *
jwk_load_private_pem(const char *path, struct err *e)
{
	return jwk_load_pem(path, true, e);
}

struct jws_key *
jwk_load_public_pem(const char *path, struct err *e)
{
	return jwk_load_pem(path, false, e);
}

struct jws_key *
jwk_public_from_pem(const char *pem, size_t len, struct err *e)
{
	EVP_PKEY *pkey;

	if (pem == NULL || (pkey = jwk_pem_decode(pem, len, false)) == NULL) {
		err_set(e, ERR_KEY, "not a PEM public (SPKI) key (%s)",
		    ossl_reason());
		return NULL;
	}
	return jwk_from_pkey(pkey, e);
}

struct jws_key *
jwk_generate(enum jws_alg alg, int bits, struct err *e)
{
	EVP_PKEY *pkey = NULL;

	switch (alg) {
	case JWS_ALG_RS256:
		if (bits < JWK_RSA_MIN_BITS || bits > JWK_RSA_MAX_BITS) {
			err_set(e, ERR_KEY, "RSA key size %d: expected %d..%d",
			    bits, JWK_RSA_MIN_BITS, JWK_RSA_MAX_BITS);
			return NULL;
		}
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
		break;
	case JWS_ALG_ES256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case JWS_ALG_EDDSA:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		err_set(e, ERR_KEY, "unknown algorithm");
		return NULL;
	}
	if (pkey == NULL) {
		err_set(e, ERR_INTERNAL, "key generation failed: %s",
		    ossl_reason());
		return NULL;
	}
	return jwk_from_pkey(pkey, e);
}

static int
jwk_save_pem(const struct jws_key *k, const char *path, bool private_key,
    bool overwrite, struct err *e)
{
	BIO *bio = NULL;
	char *data = NULL;
	long len;
	int ok, rc = -1;

	if (k == NULL || k->pkey == NULL)
		return err_set(e, ERR_INTERNAL, "%s: no key", path);
	if (private_key && !k->has_private)
		return err_set(e, ERR_KEY, "%s: key has no private part", path);
	/* Secure heap memory is wiped when the BIO is freed. */
	if ((bio = BIO_new(private_key ? BIO_s_secmem() : BIO_s_mem())) ==
	    NULL) {
		err_set(e, ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	if (private_key)
		ok = PEM_write_bio_PKCS8PrivateKey(
		    bio, k->pkey, NULL, NULL, 0, NULL, NULL);
	else
		ok = PEM_write_bio_PUBKEY(bio, k->pkey);
	if (ok != 1 || (len = BIO_get_mem_data(bio, &data)) <= 0) {
		err_set(e, ERR_INTERNAL, "%s: PEM encoding failed: %s", path,
		    ossl_reason());
		goto out;
	}
	rc = file_write_atomic(
	    path, data, (size_t)len, private_key ? 0600 : 0644, overwrite, e);
out:
	BIO_free(bio);
	return rc;
}

int
jwk_save_private_pem(
    const struct jws_key *k, const char *path, bool overwrite, struct err *e)
{
	return jwk_save_pem(k, path, true, overwrite, e);
}

int
jwk_save_public_pem(
    const struct jws_key *k, const char *path, bool overwrite, struct err *e)
{
	return jwk_save_pem(k, path, false, overwrite, e);
}

static void
jwk_public_clear(struct jwk_public *pub)
{
	for (size_t i = 0; i < pub->n; i++)
		free(pub->owned[i]);
	*pub = (struct jwk_public){ 0 };
}

static void
jwk_public_add(struct jwk_public *pub, const char *name, const char *value)
{
	pub->name[pub->n] = name;
	pub->value[pub->n] = value;
	pub->owned[pub->n] = NULL;
	pub->n++;
}

static int
jwk_public_add_b64(struct jwk_public *pub, const char *name,
    const unsigned char *bytes, size_t len, struct err *e)
{
	char *s;

	if ((s = b64url_encode(bytes, len)) == NULL)
		return err_set(e, ERR_NOMEM, "jwk: out of memory");
	jwk_public_add(pub, name, s);
	pub->owned[pub->n - 1] = s;
	return 0;
}

/* A big-endian integer member: fixed width when width > 0 (EC
 * coordinates, RFC 7518 section 6.2.1.2), else the minimal octets (RSA,
 * RFC 7518 section 6.3.1.1: no leading zero). */
static int
jwk_public_add_bn(struct jwk_public *pub, const char *name,
    const EVP_PKEY *pkey, const char *param, int width, struct err *e)
{
	unsigned char buf[JWK_RSA_MAX_BITS / 8];
	BIGNUM *bn = NULL;
	int len, rc = -1;

	if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) {
		err_set(e, ERR_KEY, "jwk: key has no \"%s\" (%s)", name,
		    ossl_reason());
		goto out;
	}
	if (width > 0)
		len = BN_bn2binpad(bn, buf, width);
	else if (BN_num_bytes(bn) <= (int)sizeof(buf))
		len = BN_bn2bin(bn, buf);
	else
		len = -1;
	if (len <= 0) {
		err_set(e, ERR_KEY, "jwk: \"%s\" does not fit", name);
		goto out;
	}
	rc = jwk_public_add_b64(pub, name, buf, (size_t)len, e);
out:
	BN_free(bn);
	return rc;
}

/* The required members of RFC 7638 section 3.2, names sorted. */
static int
jwk_public_members(const EVP_PKEY *pkey, struct jwk_public *pub, struct err *e)
{
	unsigned char raw[JWK_ED25519_LEN];
	size_t len = sizeof(raw);
	int rc = -1;

	*pub = (struct jwk_public){ 0 };
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		if (jwk_public_add_bn(
		        pub, "e", pkey, OSSL_PKEY_PARAM_RSA_E, 0, e) == -1)
			goto out;
		jwk_public_add(pub, "kty", "RSA");
		if (jwk_public_add_bn(
		        pub, "n", pkey, OSSL_PKEY_PARAM_RSA_N, 0, e) == -1)
			goto out;
	} else if (EVP_PKEY_is_a(pkey, "EC") && ec_is_p256(pkey)) {
		jwk_public_add(pub, "crv", "P-256");
		jwk_public_add(pub, "kty", "EC");
		if (jwk_public_add_bn(pub, "x", pkey, OSSL_PKEY_PARAM_EC_PUB_X,
		        JWK_P256_COORD_LEN, e) == -1 ||
		    jwk_public_add_bn(pub, "y", pkey, OSSL_PKEY_PARAM_EC_PUB_Y,
		        JWK_P256_COORD_LEN, e) == -1)
			goto out;
	} else if (EVP_PKEY_is_a(pkey, "ED25519")) {
		if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1 ||
		    len != JWK_ED25519_LEN) {
			err_set(e, ERR_KEY, "jwk: no Ed25519 public key (%s)",
			    ossl_reason());
			goto out;
		}
		/* RFC 8037 section 2: kty OKP, crv Ed25519, x. */
		jwk_public_add(pub, "crv", "Ed25519");
		jwk_public_add(pub, "kty", "OKP");
		if (jwk_public_add_b64(pub, "x", raw, len, e) == -1)
			goto out;
	} else {
		err_set(e, ERR_KEY, "jwk: unsupported key type");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		jwk_public_clear(pub);
	return rc;
}

int
jwk_thumbprint(EVP_PKEY *pkey, char out[JWK_KID_MAX + 1], struct err *e)
{
	struct jwk_public pub = { 0 };
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char *json = NULL, *p, *kid = NULL;
	size_t cap = 2;
	int rc = -1;

	out[0] = '\0';
	if (pkey == NULL)
		return err_set(e, ERR_INTERNAL, "thumbprint: no key");
	if (jwk_public_members(pkey, &pub, e) == -1)
		goto out;
	/* RFC 7638 section 3.3: {"name":"value",...}, names sorted, no
	 * whitespace. The values are base64url or fixed names, so nothing
	 * needs escaping. */
	for (size_t i = 0; i < pub.n; i++)
		cap += strlen(pub.name[i]) + strlen(pub.value[i]) + 6;
	if ((json = malloc(cap + 1)) == NULL) {
		err_set(e, ERR_NOMEM, "thumbprint: out of memory");
		goto out;
	}
	p = json;
	*p++ = '{';
	for (size_t i = 0; i < pub.n; i++)
		p += sprintf(p, "%s\"%s\":\"%s\"", i > 0 ? "," : "",
		    pub.name[i], pub.value[i]);
	*p++ = '}';
	/* RFC 7638 section 3.1 uses SHA-256, as the kid of RFC 9068 does. */
	if (EVP_Digest(json, (size_t)(p - json), digest, &dlen, EVP_sha256(),
	        NULL) != 1 ||
	    (kid = b64url_encode(digest, dlen)) == NULL ||
	    strlen(kid) > JWK_KID_MAX) {
		err_set(e, ERR_INTERNAL, "thumbprint: SHA-256 failed");
		goto out;
	}
	memcpy(out, kid, strlen(kid) + 1);
	rc = 0;
out:
	free(kid);
	free(json);
	jwk_public_clear(&pub);
	return rc;
}

struct json_object *
jwk_to_json(const struct jws_key *k)
{
	struct jwk_public pub = { 0 };
	struct json_object *obj = NULL;
	struct err e = { 0 };
	bool ok = true;

	if (k == NULL || jwk_public_members(k->pkey, &pub, &e) == -1 ||
	    (obj = json_object_new_object()) == NULL)
		goto out;
	/* kty first for the human reader; member order has no meaning. */
	for (size_t i = 0; i < pub.n && ok; i++)
		if (strcmp(pub.name[i], "kty") == 0)
			ok = json_add_string(obj, "kty", pub.value[i]) == 0;
	for (size_t i = 0; i < pub.n && ok; i++)
		if (strcmp(pub.name[i], "kty") != 0)
			ok = json_add_string(obj, pub.name[i], pub.value[i]) ==
			     0;
	/* RFC 7517 sections 4.2, 4.4, 4.5. */
	ok = ok && json_add_string(obj, "kid", k->kid) == 0 &&
	     json_add_string(obj, "alg", jws_alg_name(k->alg)) == 0 &&
	     json_add_string(obj, "use", "sig") == 0;
	if (!ok) {
		json_object_put(obj);
		obj = NULL;
	}
out:
	jwk_public_clear(&pub);
	return obj;
}
