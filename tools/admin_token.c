/* admin_token: minting. The claims are built by issuer_claims, exactly as
 * for a login's access token (RFC 9068 2.2): iss, aud, sub, client_id,
 * iat, nbf, exp, jti, username (--username, default the sub), roles,
 * permissions (from permissions.json for --roles) and scope; then --claims
 * is merged over them, so a lesson can mint a token that
 * is expired, for another audience, or without a permission, and watch
 * the verifier refuse it. The token is signed with typ "at+jwt" by the
 * configured private key. */
#include "admin_token.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin_inspect.h"
#include "b64url.h"
#include "issuer.h"
#include "json_util.h"
#include "jws.h"
#include "key_dir.h"
#include "permissions.h"
#include "secret.h"

#define ADMIN_TOKEN_MAX_CLAIMS 8192

struct admin_token_opts {
	const char *sub;
	const char *username;
	const char *claims;
	const char *roles;
	const char *out_dir;
	const char *key;
	long long ttl;
};

static void
admin_token_usage(FILE *f)
{
	fprintf(f,
	    "usage: jwt-admin token mint --sub SUB [--username NAME] "
	    "[--roles R1,R2]\n"
	    "                            [--claims JSON] [--ttl SECONDS] "
	    "[--out DIR] [--key PEM]\n"
	    "       jwt-admin token inspect [TOKEN|-] [--key PEM] [--jwks "
	    "FILE]\n"
	    "                            [--jwks-url URL] [--iss ISS] [--aud "
	    "AUD]\n"
	    "                            [--leeway SECONDS] [--explain]\n"
	    "mint prints the token, or with --out writes "
	    "DIR/<sub>_<timestamp>.jwt\n"
	    "(mode 0600) and prints its path. --claims is a JSON object "
	    "merged over\n"
	    "the standard claims. iss, aud, client_id, the default ttl and "
	    "the key\n"
	    "are the auth service's settings.\n");
}

static int
admin_token_parse(
    struct admin_cli *cli, int argc, char **argv, struct admin_token_opts *o)
{
	static const struct option opts[] = {
		{ "sub", required_argument, NULL, 's' },
		{ "username", required_argument, NULL, 'u' },
		{ "claims", required_argument, NULL, 'c' },
		{ "roles", required_argument, NULL, 'r' },
		{ "ttl", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct admin_token_opts){ .ttl = cli->cfg.access_ttl,
		.key = cli->cfg.private_key };
	admin_cli_opts_begin();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->sub = optarg;
			break;
		case 'u':
			o->username = optarg;
			break;
		case 'c':
			o->claims = optarg;
			break;
		case 'r':
			o->roles = optarg;
			break;
		case 't':
			if (admin_cli_int("token mint", "--ttl", optarg, 1,
			        ADMIN_TOKEN_MAX_TTL, &o->ttl) == -1)
				return -1;
			break;
		case 'o':
			o->out_dir = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		default:
			return admin_cli_opts_other(
			    c, "token mint", argc, argv, admin_token_usage);
		}
	}
	if (optind != argc) {
		admin_cli_usage_error(
		    "token mint", "unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	if (o->sub == NULL || o->sub[0] == '\0') {
		admin_cli_usage_error("token mint", "--sub is required");
		return -1;
	}
	return 0;
}

static int
admin_token_put(struct json_object *o, const char *key, struct json_object *v)
{
	if (v == NULL || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

/* Sets scope from the permissions claim: its strings that are scope
 * tokens (no space), joined by spaces. A permissions claim that is not an
 * array of strings (a lesson's broken token) leaves scope alone. */
static int
admin_token_scope_of(struct json_object *claims, struct err *e)
{
	struct json_object *plist = NULL, *item;
	char scope[4096];
	size_t o = 0, n;

	if (!json_object_object_get_ex(claims, "permissions", &plist) ||
	    !json_object_is_type(plist, json_type_array))
		return 0;
	n = json_object_array_length(plist);
	scope[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *p;
		size_t len;

		item = json_object_array_get_idx(plist, i);
		if (!json_object_is_type(item, json_type_string))
			return 0;
		p = json_object_get_string(item);
		len = (size_t)json_object_get_string_len(item);
		if (memchr(p, ' ', len) != NULL)
			continue;
		if (o + len + 2 > sizeof(scope))
			return err_set(e, ERR_INVALID_REQUEST,
			    "--claims: \"permissions\" too long for a scope");
		if (o > 0)
			scope[o++] = ' ';
		memcpy(scope + o, p, len);
		o += len;
		scope[o] = '\0';
	}
	if (admin_token_put(claims, "scope", json_object_new_string(scope)) ==
	    -1)
		return err_set(e, ERR_NOMEM, "claims");
	return 0;
}

/* The claims a login's access token would carry for --sub with --roles
 * (issuer_claims, the one issuing policy), then --claims merged over
 * them. */
static struct json_object *
admin_token_claims(struct admin_cli *cli, const struct admin_token_opts *o,
    int64_t now, struct err *e)
{
	const struct issuer is = { NULL, cli->issuer, cli->cfg.audience,
		cli->cfg.client_id, o->ttl };
	struct json_object *c = NULL, *extra = NULL;
	struct permissions *perms = NULL;
	char **roles = NULL;
	size_t n_roles = 0;

	if (admin_cli_split(
	        o->roles != NULL ? o->roles : "", &roles, &n_roles, e) == -1 ||
	    (n_roles > 0 &&
	        permissions_load(cli->cfg.permissions, &perms, e) == -1))
		goto fail;
	{
		struct issuer_subject subject = { .sub = o->sub,
			.username = o->username != NULL ? o->username : o->sub,
			.roles = roles,
			.n_roles = n_roles };
		if ((c = issuer_claims(&is, &subject, perms, now, o->ttl, e)) ==
		    NULL)
			goto fail;
	}
	if (o->claims != NULL) {
		struct err pe = { 0 };
		if (json_parse_strict(o->claims, strlen(o->claims),
		        JSON_DEFAULT_MAX_DEPTH, ERR_INVALID_REQUEST, &extra,
		        &pe) == -1 ||
		    !json_object_is_type(extra, json_type_object)) {
			err_set(e, ERR_INVALID_REQUEST,
			    "--claims: expected a JSON object%s%s",
			    pe.msg[0] != '\0' ? ": " : "", pe.msg);
			goto fail;
		}
		json_object_object_foreach(extra, key, val)
		{
			/* A lesson may mint a token that must fail (another
			 * aud, a past exp, no jti): allowed, but said. */
			if (json_object_object_get_ex(c, key, NULL))
				fprintf(stderr,
				    "jwt-admin: note: --claims %s \"%s\"\n",
				    val == NULL ? "removes" : "replaces", key);
			if (val == NULL) { /* JSON null: drop the claim */
				json_object_object_del(c, key);
				continue;
			}
			if (admin_token_put(c, key, json_object_get(val)) ==
			    -1) {
				err_set(e, ERR_NOMEM, "claims");
				goto fail;
			}
		}
		/* scope is the permissions joined by spaces (RFC 9068 2.2.3):
		 * new permissions without a scope of their own get theirs. */
		if (json_object_object_get_ex(extra, "permissions", NULL) &&
		    !json_object_object_get_ex(extra, "scope", NULL) &&
		    admin_token_scope_of(c, e) == -1)
			goto fail;
	}
	json_object_put(extra);
	permissions_free(perms);
	admin_cli_strv_free(roles);
	return c;
fail:
	json_object_put(extra);
	json_object_put(c);
	permissions_free(perms);
	admin_cli_strv_free(roles);
	return NULL;
}

/* <sub>_<UTC timestamp>.jwt with every byte outside [A-Za-z0-9._-] made
 * '_', so a subject can never name a path; a leading dot too. */
static void
admin_token_file_name(
    const char *sub, int64_t now, int n, char *buf, size_t len)
{
	char stamp[32], safe[65];
	time_t t = (time_t)now;
	struct tm tm;
	size_t i;

	for (i = 0; sub[i] != '\0' && i < sizeof(safe) - 1; i++) {
		char c = sub[i];
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		            (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		            (c == '.' && i > 0);

		safe[i] = c;
		if (!keep)
			safe[i] = '_';
	}
	safe[i] = '\0';
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (n == 0)
		snprintf(buf, len, "%s_%s.jwt", safe, stamp);
	else
		snprintf(buf, len, "%s_%s-%d.jwt", safe, stamp, n);
}

/* Created with O_EXCL and mode 0600 (a token is a credential); a second
 * token in the same second gets a -N suffix. */
static int
admin_token_write(const char *dir, const char *sub, int64_t now,
    const char *token, char *path, size_t len, struct err *e)
{
	char name[128];
	int fd = -1;
	size_t tlen = strlen(token);

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return err_set(e, ERR_IO, "%s: %s", dir, strerror(errno));
	for (int n = 0; n < 100 && fd == -1; n++) {
		admin_token_file_name(sub, now, n, name, sizeof(name));
		if ((size_t)snprintf(path, len, "%s/%s", dir, name) >= len)
			return err_set(e, ERR_IO, "%s: path too long", dir);
		fd = open(path,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST)
			return err_set(
			    e, ERR_IO, "%s: %s", path, strerror(errno));
	}
	if (fd == -1)
		return err_set(
		    e, ERR_IO, "%s: too many tokens this second", dir);
	if (write(fd, token, tlen) != (ssize_t)tlen ||
	    write(fd, "\n", 1) != 1) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) == -1)
		return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	return 0;
}

static int
admin_token_mint(struct admin_cli *cli, int argc, char **argv)
{
	struct admin_token_opts o;
	struct json_object *claims = NULL;
	struct jws_key *key = NULL;
	char *token = NULL, path[PATH_MAX];
	struct err e = { 0 };
	int64_t now = (int64_t)time(NULL);
	int status = ADMIN_EXIT_FAIL;
	int parsed;

	if ((parsed = admin_token_parse(cli, argc, argv, &o)) != 0)
		return admin_cli_parse_exit(parsed);
	if ((claims = admin_token_claims(cli, &o, now, &e)) == NULL) {
		status = e.code == ERR_INVALID_REQUEST ? ADMIN_EXIT_USAGE
		                                       : ADMIN_EXIT_FAIL;
		admin_cli_fail(status, &e);
		goto out;
	}
	/* The key's chosen kid, if it has one, as the daemon signs. */
	if ((key = jwk_load_private_pem(o.key, &e)) == NULL ||
	    key_dir_apply_kid(o.key, key, &e) == -1 ||
	    jws_sign(key, "at+jwt", claims, &token, &e) == -1 ||
	    (o.out_dir != NULL && admin_token_write(o.out_dir, o.sub, now,
	                              token, path, sizeof(path), &e) == -1)) {
		admin_cli_fail(ADMIN_EXIT_FAIL, &e);
		goto out;
	}
	/* Printing the token is this command's purpose. */
	if (o.out_dir != NULL)
		printf("%s\n", path);
	else
		printf("%s\n", token);
	status = fflush(stdout) == 0 ? ADMIN_EXIT_OK : ADMIN_EXIT_FAIL;
out:
	secret_free_str(token);
	jwk_free(key);
	json_object_put(claims);
	return status;
}

int
admin_token_main(struct admin_cli *cli, int argc, char **argv)
{
	int status;

	if ((status = admin_cli_group_help(argc, argv, admin_token_usage)) !=
	    -1)
		return status;
	if (strcmp(argv[0], "mint") == 0)
		return admin_token_mint(cli, argc, argv);
	if (strcmp(argv[0], "inspect") == 0)
		return admin_inspect_main(cli, argc, argv);
	return admin_cli_usage_error(
	    "token", "unknown command \"%s\"", argv[0]);
}
