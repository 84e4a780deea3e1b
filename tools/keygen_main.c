/* jwt-keygen: creates the issuer's signing key pair, DIR/private_key.pem
 * (PKCS#8, 0600) and DIR/public_key.pem (SPKI), prints its kid (the RFC
 * 7638 thumbprint) and optionally writes the public JWKS. An existing
 * private key is never replaced without --force: losing it would log out
 * every user and cannot be undone. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jwk.h"
#include "key_dir.h"

#define EXIT_USAGE 2

struct keygen_args {
	enum jws_alg alg;
	int bits;
	bool bits_given;
	const char *out_dir;
	const char *jwks_path;
	const char *kid; /* chosen, or NULL for the thumbprint */
	bool force;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: jwt-keygen [--alg RS256|ES256|EdDSA] [--bits N] [--out "
	    "DIR]\n"
	    "                  [--jwks FILE] [--kid KID] [--force]\n"
	    "Writes DIR/private_key.pem (PKCS#8, mode 0600) and "
	    "DIR/public_key.pem\n"
	    "(SPKI) and prints \"kid: <RFC 7638 thumbprint>\", or the "
	    "chosen --kid,\n"
	    "which is kept in DIR/private_key.kid and DIR/public_key.kid.\n"
	    "  --kid KID    1..64 of A-Z a-z 0-9 . _ -, not already in "
	    "DIR/published\n"
	    "  --alg ALG    RS256 (default), ES256 (P-256) or EdDSA "
	    "(Ed25519)\n"
	    "  --bits N     RSA modulus size, %d..%d (default %d)\n"
	    "  --out DIR    output directory (default keys)\n"
	    "  --jwks FILE  also write the public JWK Set to FILE\n"
	    "  --force      replace an existing private key\n"
	    "  --help       this text\n",
	    JWK_RSA_MIN_BITS, JWK_RSA_MAX_BITS, JWK_RSA_MIN_BITS);
}

/* 0 to go on, 1 after --help, -1 after a one-line error. */
static int
parse_args(int argc, char **argv, struct keygen_args *a)
{
	static const struct option opts[] = {
		{ "alg", required_argument, NULL, 'a' },
		{ "bits", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "jwks", required_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "kid", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long bits;
	int c;

	*a = (struct keygen_args){ .alg = JWS_ALG_RS256,
		.bits = JWK_RSA_MIN_BITS,
		.out_dir = "keys" };
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			a->alg = jws_alg_from_name(optarg, strlen(optarg));
			if (a->alg == JWS_ALG_UNKNOWN) {
				fprintf(stderr,
				    "jwt-keygen: --alg: expected "
				    "RS256, ES256 or EdDSA, got "
				    "\"%s\"\n",
				    optarg);
				return -1;
			}
			break;
		case 'b':
			errno = 0;
			bits = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    bits < JWK_RSA_MIN_BITS ||
			    bits > JWK_RSA_MAX_BITS) {
				fprintf(stderr,
				    "jwt-keygen: --bits: expected "
				    "an integer %d..%d, got "
				    "\"%s\"\n",
				    JWK_RSA_MIN_BITS, JWK_RSA_MAX_BITS, optarg);
				return -1;
			}
			a->bits = (int)bits;
			a->bits_given = true;
			break;
		case 'o':
			a->out_dir = optarg;
			break;
		case 'j':
			a->jwks_path = optarg;
			break;
		case 'f':
			a->force = true;
			break;
		case 'k':
			if (!key_dir_kid_valid(optarg)) {
				fprintf(stderr,
				    "jwt-keygen: --kid: expected 1..%d of "
				    "A-Z a-z 0-9 . _ -\n",
				    JWK_KID_MAX);
				return -1;
			}
			a->kid = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			fprintf(stderr,
			    "jwt-keygen: bad option \"%s\" (see "
			    "--help)\n",
			    argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "jwt-keygen: unexpected argument \"%s\"\n",
		    argv[optind]);
		return -1;
	}
	if (a->bits_given && a->alg != JWS_ALG_RS256) {
		fprintf(stderr, "jwt-keygen: --bits applies to RS256 only\n");
		return -1;
	}
	return 0;
}

/* mkdir -p: the key directory may be new, with new parents. */
static int
make_dirs(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return -1;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(path, 0755) == -1 && errno != EEXIST ? -1 : 0;
}

static int
write_jwks(const struct jws_key *k, const char *path)
{
	struct json_object *root = json_object_new_object();
	struct json_object *keys = json_object_new_array();
	struct json_object *jwk = jwk_to_json(k);
	const char *text;
	FILE *f = NULL;
	int rc = -1;

	errno = 0;
	if (jwk == NULL || root == NULL || keys == NULL ||
	    json_object_object_add(root, "keys", keys) != 0) {
		json_object_put(keys);
		goto out;
	}
	if (json_object_array_add(keys, jwk) != 0)
		goto out;
	jwk = NULL;
	if ((text = json_object_to_json_string_ext(root,
	         JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)) ==
	    NULL)
		goto out;
	if ((f = fopen(path, "w")) == NULL || fprintf(f, "%s\n", text) < 0)
		goto out;
	rc = 0;
out:
	if (f != NULL && fclose(f) != 0)
		rc = -1;
	if (rc == -1)
		fprintf(stderr, "jwt-keygen: %s: %s\n", path,
		    errno != 0 ? strerror(errno) : "cannot write");
	json_object_put(jwk);
	json_object_put(root);
	return rc;
}

int
main(int argc, char **argv)
{
	struct keygen_args a;
	struct jws_key *k = NULL;
	struct err e = { 0 };
	char priv[PATH_MAX], pub[PATH_MAX];
	struct stat st;
	int status = EXIT_FAILURE;

	switch (parse_args(argc, argv, &a)) {
	case 1:
		return EXIT_SUCCESS;
	case -1:
		return EXIT_USAGE;
	default:
		break;
	}
	if ((size_t)snprintf(priv, sizeof(priv), "%s/private_key.pem",
	        a.out_dir) >= sizeof(priv) ||
	    (size_t)snprintf(pub, sizeof(pub), "%s/public_key.pem",
	        a.out_dir) >= sizeof(pub)) {
		fprintf(stderr, "jwt-keygen: --out: path too long\n");
		return EXIT_USAGE;
	}
	/* Checked before the (slow) generation for a clear message; the
	 * O_EXCL create below still closes the race. */
	if (!a.force && lstat(priv, &st) == 0) {
		fprintf(stderr,
		    "jwt-keygen: %s already exists; refusing to "
		    "overwrite it (use --force to replace the key "
		    "pair)\n",
		    priv);
		return EXIT_FAILURE;
	}
	/* A kid names one key of the published set (RFC 7517 4.5). */
	if (a.kid != NULL) {
		char taken[PATH_MAX];
		if ((size_t)snprintf(taken, sizeof(taken), "%s/%s/%s.pem",
		        a.out_dir, KEY_DIR_PUBLISHED, a.kid) >= sizeof(taken)) {
			fprintf(stderr, "jwt-keygen: --out: path too long\n");
			return EXIT_USAGE;
		}
		if (lstat(taken, &st) == 0) {
			fprintf(stderr,
			    "jwt-keygen: kid %s is already published (%s)\n",
			    a.kid, taken);
			return EXIT_FAILURE;
		}
	}
	if (make_dirs(a.out_dir) == -1) {
		fprintf(
		    stderr, "jwt-keygen: %s: %s\n", a.out_dir, strerror(errno));
		return EXIT_FAILURE;
	}
	/* The public key is derived data: rewritten whenever the private
	 * key is new, so the two always belong together. */
	if ((k = jwk_generate(a.alg, a.bits, &e)) == NULL ||
	    jwk_save_private_pem(k, priv, a.force, &e) == -1 ||
	    jwk_save_public_pem(k, pub, true, &e) == -1 ||
	    key_dir_write_kid(priv, a.kid, &e) == -1 ||
	    key_dir_write_kid(pub, a.kid, &e) == -1) {
		fprintf(stderr, "jwt-keygen: %s\n", e.msg);
		goto out;
	}
	if (a.kid != NULL)
		snprintf(k->kid, sizeof(k->kid), "%s", a.kid);
	if (a.jwks_path != NULL && write_jwks(k, a.jwks_path) == -1)
		goto out;
	printf("kid: %s\n", k->kid);
	status = fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
out:
	jwk_free(k);
	return status;
}
