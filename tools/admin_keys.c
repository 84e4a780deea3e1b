/* admin_keys: key generation, listing, rotation and retirement. The
 * signing key is replaced only after the public half of the key it
 * replaces has been published, so no token signed in between can fail
 * to verify; a private key is never overwritten without --force except
 * by a rotation, which is the request to replace it. */
#include "admin_keys.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jwk.h"
#include "key_dir.h"

struct admin_keys_opts {
	char dir[PATH_MAX];
	enum jws_alg alg; /* JWS_ALG_UNKNOWN: RS256, or the current key's */
	int bits;
	bool force;
	const char *kid; /* rotate --kid: chosen, or NULL for the thumbprint */
};

static void
admin_keys_usage(FILE *f)
{
	fprintf(f,
	    "usage: jwt-admin keys generate [--alg ALG] [--bits N] [--dir DIR] "
	    "[--force]\n"
	    "       jwt-admin keys list [--dir DIR]\n"
	    "       jwt-admin keys rotate [--alg ALG] [--bits N] [--dir DIR] "
	    "[--kid KID]\n"
	    "       jwt-admin keys retire KID [--dir DIR]\n"
	    "       jwt-admin keys stage [--alg ALG] [--bits N] [--dir DIR] "
	    "[--kid KID]\n"
	    "       jwt-admin keys activate [--dir DIR]\n"
	    "DIR (default: the directory of the configured private_key) "
	    "holds\n"
	    "private_key.pem (signs), public_key.pem, published/<kid>.pem "
	    "(still\n"
	    "verify) and retired/<kid>.pem (no longer published). ALG is "
	    "RS256,\n"
	    "ES256 or EdDSA. After rotate or retire, send SIGHUP to "
	    "auth_service.\n"
	    "--kid gives the new key a chosen kid (1..64 of A-Z a-z 0-9 . _ "
	    "-), not\n"
	    "one the key set already has; it is kept in private_key.kid.\n"
	    "stage then activate rotates without a token any verifier cannot "
	    "check:\n"
	    "stage publishes the next key (published/<kid>.pem; its private "
	    "half\n"
	    "waits in staged/); once verifiers have fetched the JWKS (its "
	    "max-age),\n"
	    "activate makes it the signing key and publishes the old one.\n");
}

/* 0 to go on, 1 after --help, -1 after a usage error. */
static int
admin_keys_parse(struct admin_cli *cli, int argc, char **argv,
    struct admin_keys_opts *o, const char *cmd)
{
	static const struct option opts[] = {
		{ "alg", required_argument, NULL, 'a' },
		{ "bits", required_argument, NULL, 'b' },
		{ "dir", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "kid", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool bits_given = false;
	long long bits;
	int c;

	*o = (struct admin_keys_opts){ .bits = JWK_RSA_MIN_BITS };
	admin_cli_dirname(cli->cfg.private_key, o->dir, sizeof(o->dir));
	admin_cli_opts_begin();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o->alg = jws_alg_from_name(optarg, strlen(optarg));
			if (o->alg == JWS_ALG_UNKNOWN) {
				admin_cli_usage_error(cmd,
				    "--alg: expected RS256, ES256 or EdDSA, "
				    "got \"%s\"",
				    optarg);
				return -1;
			}
			break;
		case 'b':
			if (admin_cli_int(cmd, "--bits", optarg,
			        JWK_RSA_MIN_BITS, JWK_RSA_MAX_BITS,
			        &bits) == -1)
				return -1;
			o->bits = (int)bits;
			bits_given = true;
			break;
		case 'd':
			if (strlen(optarg) >= sizeof(o->dir)) {
				admin_cli_usage_error(cmd, "--dir: too long");
				return -1;
			}
			snprintf(o->dir, sizeof(o->dir), "%s", optarg);
			break;
		case 'f':
			o->force = true;
			break;
		case 'k':
			if ((strcmp(cmd, "keys rotate") != 0 &&
			        strcmp(cmd, "keys stage") != 0) ||
			    !key_dir_kid_valid(optarg) || optarg[0] == '-') {
				admin_cli_usage_error(cmd,
				    "--kid: for rotate and stage, 1..%d of "
				    "A-Z a-z 0-9 "
				    ". _ -",
				    JWK_KID_MAX);
				return -1;
			}
			o->kid = optarg;
			break;
		default:
			return admin_cli_opts_other(
			    c, cmd, argc, argv, admin_keys_usage);
		}
	}
	if (bits_given && o->alg != JWS_ALG_RS256 &&
	    o->alg != JWS_ALG_UNKNOWN) {
		admin_cli_usage_error(cmd, "--bits applies to RS256 only");
		return -1;
	}
	return 0;
}

static int
admin_keys_mkdir(const char *dir, mode_t mode, struct err *e)
{
	if (mkdir(dir, mode) == -1 && errno != EEXIST)
		return err_set(e, ERR_IO, "%s: %s", dir, strerror(errno));
	return 0;
}

static int
admin_keys_generate(struct admin_cli *cli, int argc, char **argv)
{
	struct admin_keys_opts o;
	struct jws_key *k = NULL;
	char priv[PATH_MAX], pub[PATH_MAX];
	struct err e = { 0 };
	struct stat st;
	int status = ADMIN_EXIT_FAIL;
	int parsed;

	if ((parsed = admin_keys_parse(cli, argc, argv, &o, "keys generate")) !=
	    0)
		return admin_cli_parse_exit(parsed);
	if (optind != argc)
		return admin_cli_usage_error("keys generate",
		    "unexpected argument \"%s\"", argv[optind]);
	if (key_dir_path(o.dir, KEY_DIR_PRIVATE, priv, sizeof(priv), &e) ==
	        -1 ||
	    key_dir_path(o.dir, KEY_DIR_PUBLIC, pub, sizeof(pub), &e) == -1)
		return admin_cli_fail(ADMIN_EXIT_USAGE, &e);
	/* Losing the signing key logs every user out: never by accident.
	 * The O_EXCL create in jwk_save_private_pem closes the race. */
	if (!o.force && lstat(priv, &st) == 0) {
		fprintf(stderr,
		    "jwt-admin: %s already exists; use \"keys rotate\" to "
		    "replace it keeping tokens valid, or --force\n",
		    priv);
		return ADMIN_EXIT_FAIL;
	}
	if (admin_keys_mkdir(o.dir, 0755, &e) == -1 ||
	    (k = jwk_generate(o.alg != JWS_ALG_UNKNOWN ? o.alg : JWS_ALG_RS256,
	         o.bits, &e)) == NULL ||
	    jwk_save_private_pem(k, priv, o.force, &e) == -1 ||
	    jwk_save_public_pem(k, pub, true, &e) == -1) {
		admin_cli_fail(ADMIN_EXIT_FAIL, &e);
		goto out;
	}
	printf("kid: %s\nalg: %s\nprivate key: %s\npublic key: %s\n", k->kid,
	    jws_alg_name(k->alg), priv, pub);
	status = ADMIN_EXIT_OK;
out:
	jwk_free(k);
	return status;
}

/* One line of "keys list"; a file that does not load is shown, not
 * fatal, so a broken key is easy to find. */
static void
admin_keys_show(const char *path, const char *state, bool private_key)
{
	struct err e = { 0 };
	struct jws_key *k = private_key ? jwk_load_private_pem(path, &e)
	                                : jwk_load_public_pem(path, &e);

	if (k != NULL && key_dir_apply_kid(path, k, &e) == -1) {
		jwk_free(k);
		k = NULL;
	}
	if (k == NULL) {
		printf("%-43s  %-5s  %-9s  %s (%s)\n", "?", "?", state, path,
		    e.msg);
		return;
	}
	printf("%-43s  %-5s  %-9s  %s\n", k->kid, jws_alg_name(k->alg), state,
	    path);
	jwk_free(k);
}

static int
admin_keys_show_dir(const char *dir, const char *sub, const char *state)
{
	char sdir[PATH_MAX], path[PATH_MAX];
	char **names = NULL;
	size_t n = 0;
	struct err e = { 0 };

	if (key_dir_path(dir, sub, sdir, sizeof(sdir), &e) == -1 ||
	    key_dir_list(sdir, &names, &n, &e) == -1)
		return admin_cli_fail(ADMIN_EXIT_FAIL, &e);
	for (size_t i = 0; i < n; i++)
		if (key_dir_path(sdir, names[i], path, sizeof(path), &e) == 0)
			admin_keys_show(path, state, false);
	key_dir_list_free(names, n);
	return ADMIN_EXIT_OK;
}

static int
admin_keys_list(struct admin_cli *cli, int argc, char **argv)
{
	struct admin_keys_opts o;
	char priv[PATH_MAX];
	struct err e = { 0 };
	int status, parsed;

	if ((parsed = admin_keys_parse(cli, argc, argv, &o, "keys list")) != 0)
		return admin_cli_parse_exit(parsed);
	if (optind != argc)
		return admin_cli_usage_error(
		    "keys list", "unexpected argument \"%s\"", argv[optind]);
	if (key_dir_path(o.dir, KEY_DIR_PRIVATE, priv, sizeof(priv), &e) == -1)
		return admin_cli_fail(ADMIN_EXIT_USAGE, &e);
	printf("%-43s  %-5s  %-9s  %s\n", "KID", "ALG", "STATE", "FILE");
	if (access(priv, F_OK) == 0)
		admin_keys_show(priv, "signing", true);
	status = admin_keys_show_dir(o.dir, KEY_DIR_PUBLISHED, "published");
	if (status == ADMIN_EXIT_OK)
		status = admin_keys_show_dir(o.dir, KEY_DIR_RETIRED, "retired");
	return status;
}

/* The daemon publishes the old key only if its public_keys_dir is the
 * directory the key was written to: say so when it is not, since every
 * token the old key signed would then stop verifying at the next SIGHUP. */
static void
admin_keys_check_published(const struct admin_cli *cli, const char *pdir)
{
	const char *dir = cli->cfg.public_keys_dir;
	char a[PATH_MAX], b[PATH_MAX];

	if (dir[0] != '\0' && realpath(dir, a) != NULL &&
	    realpath(pdir, b) != NULL && strcmp(a, b) == 0)
		return;
	fprintf(stderr,
	    "jwt-admin: warning: %s sets public_keys_dir to \"%s\", not %s: "
	    "auth_service will not publish the old key, and tokens it signed "
	    "stop verifying at the next SIGHUP\n",
	    cli->config_path != NULL ? cli->config_path : "the configuration",
	    dir, pdir);
}

/* Whether kid already names a key of the set: the signing key, or a
 * file in published/ or retired/ (a retired kid may still be in caches;
 * RFC 7517 4.5: one kid, one key). */
static bool
admin_keys_kid_taken(const char *dir, const struct jws_key *signing,
    const char *kid, struct err *e)
{
	static const char *const subs[] = { KEY_DIR_PUBLISHED,
		KEY_DIR_RETIRED };
	char sub[PATH_MAX], path[PATH_MAX], name[JWK_KID_MAX + 8];
	struct stat st;

	if (strcmp(signing->kid, kid) == 0) {
		err_set(e, ERR_CONFIG, "kid %s is the signing key's", kid);
		return true;
	}
	snprintf(name, sizeof(name), "%s.pem", kid);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (key_dir_path(dir, subs[i], sub, sizeof(sub), e) == 0 &&
		    key_dir_path(sub, name, path, sizeof(path), e) == 0 &&
		    lstat(path, &st) == 0) {
			err_set(
			    e, ERR_CONFIG, "kid %s is taken: %s", kid, path);
			return true;
		}
	return false;
}

#define ADMIN_KEYS_STAGED "staged"

/* The files of a key directory that rotate, stage and activate touch. */
struct admin_keys_paths {
	char priv[PATH_MAX], pub[PATH_MAX], published[PATH_MAX];
	char staged[PATH_MAX], staged_priv[PATH_MAX];
};

/* Options (no positional argument) and the paths of o->dir. -1 to go
 * on; otherwise the exit status (after --help or a usage error). */
static int
admin_keys_begin(struct admin_cli *cli, int argc, char **argv,
    struct admin_keys_opts *o, const char *cmd, struct admin_keys_paths *p)
{
	struct err e = { 0 };
	int parsed;

	if ((parsed = admin_keys_parse(cli, argc, argv, o, cmd)) != 0)
		return admin_cli_parse_exit(parsed);
	if (optind != argc)
		return admin_cli_usage_error(
		    cmd, "unexpected argument \"%s\"", argv[optind]);
	if (key_dir_path(
	        o->dir, KEY_DIR_PRIVATE, p->priv, sizeof(p->priv), &e) == -1 ||
	    key_dir_path(o->dir, KEY_DIR_PUBLIC, p->pub, sizeof(p->pub), &e) ==
	        -1 ||
	    key_dir_path(o->dir, KEY_DIR_PUBLISHED, p->published,
	        sizeof(p->published), &e) == -1 ||
	    key_dir_path(o->dir, ADMIN_KEYS_STAGED, p->staged,
	        sizeof(p->staged), &e) == -1 ||
	    key_dir_path(p->staged, KEY_DIR_PRIVATE, p->staged_priv,
	        sizeof(p->staged_priv), &e) == -1)
		return admin_cli_fail(ADMIN_EXIT_USAGE, &e);
	return -1;
}

/* A key pair from a PEM private key and its .kid file; NULL with e set. */
static struct jws_key *
admin_keys_load(const char *priv, struct err *e)
{
	struct jws_key *k = jwk_load_private_pem(priv, e);

	if (k != NULL && key_dir_apply_kid(priv, k, e) == -1) {
		jwk_free(k);
		return NULL;
	}
	return k;
}

/* admin_keys_load for a command that cannot start without that key: on
 * failure the reason and what to do instead go to stderr. */
static struct jws_key *
admin_keys_load_or_say(const char *priv, const char *instead)
{
	struct err e = { 0 };
	struct jws_key *k = admin_keys_load(priv, &e);

	if (k == NULL)
		fprintf(stderr, "jwt-admin: %s (%s)\n", e.msg, instead);
	return k;
}

/* 1. the old key stays published (its public half in published/); 2. only
 * then does k sign. A crash between the two leaves the old key signing
 * and listed twice, which the loader folds into one, never a key missing.
 * chosen: k's kid if it was given (kept in the .kid files), else NULL. */
static int
admin_keys_install(const struct admin_keys_paths *p, const struct jws_key *old,
    const struct jws_key *k, const char *chosen, char keep[PATH_MAX],
    struct err *e)
{
	char name[JWK_KID_MAX + 8];

	snprintf(name, sizeof(name), "%s.pem", old->kid);
	if (admin_keys_mkdir(p->published, 0755, e) == -1 ||
	    key_dir_path(p->published, name, keep, PATH_MAX, e) == -1 ||
	    jwk_save_public_pem(old, keep, true, e) == -1 ||
	    key_dir_write_kid(keep, old->kid, e) == -1 ||
	    jwk_save_private_pem(k, p->priv, true, e) == -1 ||
	    jwk_save_public_pem(k, p->pub, true, e) == -1 ||
	    key_dir_write_kid(p->priv, chosen, e) == -1 ||
	    key_dir_write_kid(p->pub, chosen, e) == -1)
		return -1;
	return 0;
}

static void
admin_keys_say_installed(const struct admin_cli *cli,
    const struct admin_keys_paths *p, const struct jws_key *old,
    const struct jws_key *k, const char *keep)
{
	printf("signing key: %s (%s)\n"
	       "still published: %s (%s), in %s\n"
	       "next: send SIGHUP to auth_service; once every token signed "
	       "by the old key\n"
	       "has expired (access_ttl), run: jwt-admin keys retire %s\n",
	    k->kid, jws_alg_name(k->alg), old->kid, jws_alg_name(old->alg),
	    keep, old->kid);
	admin_keys_check_published(cli, p->published);
}

/* A new key pair of o's algorithm (else the current key's), with o's kid
 * when one was chosen and the key set does not have it yet. */
static struct jws_key *
admin_keys_next(
    const struct admin_keys_opts *o, const struct jws_key *cur, struct err *e)
{
	struct jws_key *k;

	if (o->kid != NULL && admin_keys_kid_taken(o->dir, cur, o->kid, e))
		return NULL;
	k = jwk_generate(
	    o->alg != JWS_ALG_UNKNOWN ? o->alg : cur->alg, o->bits, e);

	if (k != NULL && o->kid != NULL)
		snprintf(k->kid, sizeof(k->kid), "%s", o->kid);
	return k;
}

static int
admin_keys_rotate(struct admin_cli *cli, int argc, char **argv)
{
	struct admin_keys_opts o;
	struct admin_keys_paths p;
	struct jws_key *old = NULL, *k = NULL;
	char keep[PATH_MAX];
	struct err e = { 0 };
	int status;

	if ((status = admin_keys_begin(
	         cli, argc, argv, &o, "keys rotate", &p)) != -1)
		return status;
	status = ADMIN_EXIT_FAIL;
	if ((old = admin_keys_load_or_say(
	         p.priv, "nothing to rotate: use \"keys generate\"")) == NULL)
		return ADMIN_EXIT_FAIL;
	if ((k = admin_keys_next(&o, old, &e)) == NULL ||
	    admin_keys_install(&p, old, k, o.kid, keep, &e) == -1) {
		admin_cli_fail(ADMIN_EXIT_FAIL, &e);
		goto out;
	}
	admin_keys_say_installed(cli, &p, old, k, keep);
	status = ADMIN_EXIT_OK;
out:
	jwk_free(old);
	jwk_free(k);
	return status;
}

/* keys stage: the next key, published before it signs anything. */
static int
admin_keys_stage(struct admin_cli *cli, int argc, char **argv)
{
	struct admin_keys_opts o;
	struct admin_keys_paths p;
	struct jws_key *cur = NULL, *k = NULL;
	char keep[PATH_MAX], name[JWK_KID_MAX + 8];
	struct err e = { 0 };
	int status;

	if ((status = admin_keys_begin(
	         cli, argc, argv, &o, "keys stage", &p)) != -1)
		return status;
	status = ADMIN_EXIT_FAIL;
	if ((cur = admin_keys_load_or_say(p.priv, "use \"keys generate\"")) ==
	    NULL)
		return ADMIN_EXIT_FAIL;
	if (access(p.staged_priv, F_OK) == 0) {
		err_set(&e, ERR_CONFIG,
		    "%s: a key is staged already (\"keys activate\" it first)",
		    p.staged_priv);
		goto fail;
	}
	if ((k = admin_keys_next(&o, cur, &e)) == NULL)
		goto fail;
	snprintf(name, sizeof(name), "%s.pem", k->kid);
	/* The private half first (0700 directory, 0600 file): a key is
	 * published only once it can sign. */
	if (admin_keys_mkdir(p.staged, 0700, &e) == -1 ||
	    jwk_save_private_pem(k, p.staged_priv, false, &e) == -1 ||
	    key_dir_write_kid(p.staged_priv, o.kid, &e) == -1 ||
	    admin_keys_mkdir(p.published, 0755, &e) == -1 ||
	    key_dir_path(p.published, name, keep, sizeof(keep), &e) == -1 ||
	    jwk_save_public_pem(k, keep, true, &e) == -1 ||
	    key_dir_write_kid(keep, o.kid, &e) == -1)
		goto fail;
	printf("staged: %s (%s), published in %s; %s still signs\n"
	       "next: send SIGHUP to auth_service; once every verifier has "
	       "fetched the\n"
	       "JWKS again (jwks_max_age), run: jwt-admin keys activate\n",
	    k->kid, jws_alg_name(k->alg), keep, cur->kid);
	admin_keys_check_published(cli, p.published);
	status = ADMIN_EXIT_OK;
	goto out;
fail:
	admin_cli_fail(ADMIN_EXIT_FAIL, &e);
out:
	jwk_free(cur);
	jwk_free(k);
	return status;
}

/* keys activate: the staged key signs; the old one stays published. */
static int
admin_keys_activate(struct admin_cli *cli, int argc, char **argv)
{
	struct admin_keys_opts o;
	struct admin_keys_paths p;
	struct jws_key *old = NULL, *k = NULL;
	char keep[PATH_MAX], staged_pub[PATH_MAX], kidfile[PATH_MAX];
	char name[JWK_KID_MAX + 8];
	const char *chosen = NULL; /* a --kid given at stage */
	struct err e = { 0 };
	int status;

	if ((status = admin_keys_begin(
	         cli, argc, argv, &o, "keys activate", &p)) != -1)
		return status;
	status = ADMIN_EXIT_FAIL;
	if ((k = admin_keys_load_or_say(
	         p.staged_priv, "nothing staged: use \"keys stage\"")) == NULL)
		return ADMIN_EXIT_FAIL;
	if ((old = admin_keys_load(p.priv, &e)) == NULL ||
	    key_dir_kid_path(p.staged_priv, kidfile, sizeof(kidfile), &e) == -1)
		goto fail;
	if (access(kidfile, F_OK) == 0)
		chosen = k->kid;
	/* Then the staged key's own published copy and the staged files go
	 * (the signing key is published anyway). */
	snprintf(name, sizeof(name), "%s.pem", k->kid);
	if (admin_keys_install(&p, old, k, chosen, keep, &e) == -1 ||
	    key_dir_path(
	        p.published, name, staged_pub, sizeof(staged_pub), &e) == -1)
		goto fail;
	(void)key_dir_write_kid(staged_pub, NULL, &e);
	(void)unlink(staged_pub);
	(void)key_dir_write_kid(p.staged_priv, NULL, &e);
	if (unlink(p.staged_priv) == -1) {
		err_set(&e, ERR_IO, "%s: %s", p.staged_priv, strerror(errno));
		goto fail;
	}
	(void)rmdir(p.staged);
	admin_keys_say_installed(cli, &p, old, k, keep);
	status = ADMIN_EXIT_OK;
	goto out;
fail:
	admin_cli_fail(ADMIN_EXIT_FAIL, &e);
out:
	jwk_free(old);
	jwk_free(k);
	return status;
}

/* Finds the published file whose key has this kid (by content, so a
 * renamed file is found too). *path empty when there is none. */
static int
admin_keys_find(
    const char *pdir, const char *kid, char *path, size_t len, struct err *e)
{
	char **names = NULL;
	size_t n = 0;
	int rc = -1;

	path[0] = '\0';
	if (key_dir_list(pdir, &names, &n, e) == -1)
		return -1;
	for (size_t i = 0; i < n && path[0] == '\0'; i++) {
		struct err le = { 0 };
		struct jws_key *k;

		if (key_dir_path(pdir, names[i], path, len, e) == -1)
			goto out;
		k = jwk_load_public_pem(path, &le);
		if (k != NULL && key_dir_apply_kid(path, k, &le) == -1) {
			jwk_free(k);
			k = NULL;
		}
		if (k == NULL || strcmp(k->kid, kid) != 0)
			path[0] = '\0';
		jwk_free(k);
	}
	rc = 0;
out:
	key_dir_list_free(names, n);
	return rc;
}

/* A kid as jwt-admin makes them: an RFC 7638 SHA-256 thumbprint, 43
 * base64url characters. No option of ours looks like that. */
static bool
admin_keys_kid_shaped(const char *s)
{
	size_t n = strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

	return n == 43 && s[n] == '\0';
}

/* A thumbprint starts with '-' one time in 32, and getopt would take it
 * for options: unless the operator wrote "--", args gets argv with every
 * kid-shaped operand moved behind a "--" (args holds argc + 1 slots). */
static int
admin_keys_retire_args(int argc, char **argv, char **args)
{
	int n = 0, kids = 0;

	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			memcpy(args, argv, (size_t)argc * sizeof(*argv));
			return argc;
		}
	for (int i = 0; i < argc; i++) {
		bool value = i > 0 && strcmp(argv[i - 1], "--dir") == 0;

		if (i > 0 && !value && admin_keys_kid_shaped(argv[i]))
			kids++;
		else
			args[n++] = argv[i];
	}
	if (kids == 0)
		return n;
	args[n++] = (char *)"--";
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i - 1], "--dir") != 0 &&
		    admin_keys_kid_shaped(argv[i]))
			args[n++] = argv[i];
	return n;
}

static int
admin_keys_retire_kid(struct admin_cli *cli, int argc, char **argv)
{
	struct admin_keys_opts o;
	struct jws_key *signing = NULL;
	char priv[PATH_MAX], pdir[PATH_MAX], rdir[PATH_MAX];
	char from[PATH_MAX], to[PATH_MAX], name[JWK_KID_MAX + 8];
	const char *kid;
	struct err e = { 0 };
	int status = ADMIN_EXIT_FAIL;
	int parsed;

	if ((parsed = admin_keys_parse(cli, argc, argv, &o, "keys retire")) !=
	    0)
		return admin_cli_parse_exit(parsed);
	if (optind + 1 != argc)
		return admin_cli_usage_error("keys retire", "expected one KID");
	kid = argv[optind];
	if (strlen(kid) == 0 || strlen(kid) > JWK_KID_MAX || strchr(kid, '/'))
		return admin_cli_usage_error(
		    "keys retire", "bad KID \"%s\"", kid);
	if (key_dir_path(o.dir, KEY_DIR_PRIVATE, priv, sizeof(priv), &e) ==
	        -1 ||
	    key_dir_path(o.dir, KEY_DIR_PUBLISHED, pdir, sizeof(pdir), &e) ==
	        -1 ||
	    key_dir_path(o.dir, KEY_DIR_RETIRED, rdir, sizeof(rdir), &e) == -1)
		return admin_cli_fail(ADMIN_EXIT_USAGE, &e);
	if ((signing = jwk_load_private_pem(priv, &e)) != NULL &&
	    key_dir_apply_kid(priv, signing, &e) == 0 &&
	    strcmp(signing->kid, kid) == 0) {
		fprintf(stderr,
		    "jwt-admin: %s is the signing key; rotate first\n", kid);
		goto out;
	}
	snprintf(name, sizeof(name), "%s.pem", kid);
	if (admin_keys_find(pdir, kid, from, sizeof(from), &e) == -1) {
		admin_cli_fail(ADMIN_EXIT_FAIL, &e);
		goto out;
	}
	if (from[0] == '\0') {
		fprintf(stderr,
		    "jwt-admin: no published key has kid %s in %s\n", kid,
		    pdir);
		goto out;
	}
	/* Kept, not deleted: an operator may want to see which keys once
	 * signed; it is only a public key. */
	if (admin_keys_mkdir(rdir, 0755, &e) == -1 ||
	    key_dir_path(rdir, name, to, sizeof(to), &e) == -1) {
		admin_cli_fail(ADMIN_EXIT_FAIL, &e);
		goto out;
	}
	if (rename(from, to) == -1) {
		fprintf(stderr, "jwt-admin: %s -> %s: %s\n", from, to,
		    strerror(errno));
		goto out;
	}
	/* A chosen kid's file goes with its key. */
	{
		char kf[PATH_MAX], kt[PATH_MAX];
		if (key_dir_kid_path(from, kf, sizeof(kf), &e) == 0 &&
		    key_dir_kid_path(to, kt, sizeof(kt), &e) == 0 &&
		    rename(kf, kt) == -1 && errno != ENOENT)
			fprintf(stderr, "jwt-admin: %s -> %s: %s\n", kf, kt,
			    strerror(errno));
	}
	printf("retired: %s (now %s)\n"
	       "next: send SIGHUP to auth_service; tokens signed by this key "
	       "no longer verify\n",
	    kid, to);
	status = ADMIN_EXIT_OK;
out:
	jwk_free(signing);
	return status;
}

static int
admin_keys_retire(struct admin_cli *cli, int argc, char **argv)
{
	char **args = calloc((size_t)argc + 2, sizeof(*args));
	int status;

	if (args == NULL) {
		fprintf(stderr, "jwt-admin: out of memory\n");
		return ADMIN_EXIT_FAIL;
	}
	argc = admin_keys_retire_args(argc, argv, args);
	status = admin_keys_retire_kid(cli, argc, args);
	free(args);
	return status;
}

int
admin_keys_main(struct admin_cli *cli, int argc, char **argv)
{
	int status;

	if ((status = admin_cli_group_help(argc, argv, admin_keys_usage)) != -1)
		return status;
	if (strcmp(argv[0], "generate") == 0)
		return admin_keys_generate(cli, argc, argv);
	if (strcmp(argv[0], "list") == 0)
		return admin_keys_list(cli, argc, argv);
	if (strcmp(argv[0], "rotate") == 0)
		return admin_keys_rotate(cli, argc, argv);
	if (strcmp(argv[0], "retire") == 0)
		return admin_keys_retire(cli, argc, argv);
	if (strcmp(argv[0], "stage") == 0)
		return admin_keys_stage(cli, argc, argv);
	if (strcmp(argv[0], "activate") == 0)
		return admin_keys_activate(cli, argc, argv);
	return admin_cli_usage_error("keys", "unknown command \"%s\"", argv[0]);
}
