/* admin_inspect: token display and verification for jwt-admin. The
 * decoding for display trusts nothing it shows (output is JSON-escaped
 * by json-c, times are only formatted); the verdict is verify.c's. */
#include "admin_inspect.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin_fetch.h"
#include "b64url.h"
#include "claims.h"
#include "config.h"
#include "explain.h"
#include "json_util.h"
#include "jws.h"
#include "key_dir.h"

#define ADMIN_INSPECT_MAX_KEYS 16

struct admin_inspect_opts {
	const char *token_arg; /* operand, "-" or NULL: stdin */
	const char *keys[ADMIN_INSPECT_MAX_KEYS];
	size_t n_keys;
	const char *jwks_file;
	const char *jwks_url;
	const char *iss;
	const char *aud;
	long long leeway;
	bool explain;
};

static void
admin_inspect_usage(FILE *f)
{
	fprintf(f, "usage: jwt-admin token inspect [TOKEN|-] [--key "
	           "PEM]... [--jwks FILE]\n"
	           "         [--jwks-url URL] [--iss ISS] [--aud AUD] "
	           "[--leeway SECONDS] [--explain]\n"
	           "TOKEN defaults to standard input. Without a key "
	           "the token is only\n"
	           "decoded. Exit status 0: valid (or not checked), "
	           "1: invalid, 2: usage.\n");
}

static int
admin_inspect_parse(
    struct admin_cli *cli, int argc, char **argv, struct admin_inspect_opts *o)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "jwks", required_argument, NULL, 'j' },
		{ "jwks-url", required_argument, NULL, 'u' },
		{ "iss", required_argument, NULL, 'i' },
		{ "aud", required_argument, NULL, 'a' },
		{ "leeway", required_argument, NULL, 'l' },
		{ "explain", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = "token inspect";
	int c;

	*o = (struct admin_inspect_opts){ .iss = cli->issuer,
		.aud = cli->cfg.audience,
		.leeway = CLAIMS_DEFAULT_LEEWAY };
	admin_cli_opts_begin();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (o->n_keys == ADMIN_INSPECT_MAX_KEYS) {
				admin_cli_usage_error(cmd, "too many --key");
				return -1;
			}
			o->keys[o->n_keys++] = optarg;
			break;
		case 'j':
			o->jwks_file = optarg;
			break;
		case 'u':
			o->jwks_url = optarg;
			break;
		case 'i':
			o->iss = optarg;
			break;
		case 'a':
			o->aud = optarg;
			break;
		case 'l':
			if (admin_cli_int(cmd, "--leeway", optarg, 0,
			        CLAIMS_MAX_LEEWAY, &o->leeway) == -1)
				return -1;
			break;
		case 'x':
			o->explain = true;
			break;
		default:
			return admin_cli_opts_other(
			    c, cmd, argc, argv, admin_inspect_usage);
		}
	}
	if (argc - optind > 1) {
		admin_cli_usage_error(cmd, "expected at most one TOKEN");
		return -1;
	}
	if (argc - optind == 1 && strcmp(argv[optind], "-") != 0)
		o->token_arg = argv[optind];
	if ((o->n_keys > 0) + (o->jwks_file != NULL) + (o->jwks_url != NULL) >
	    1) {
		admin_cli_usage_error(
		    cmd, "give one of --key, --jwks and --jwks-url");
		return -1;
	}
	return 0;
}

/* The token: the operand, or standard input with surrounding white space
 * dropped (a file written by "token mint" ends in a newline). */
static int
admin_inspect_read(
    const struct admin_inspect_opts *o, char **out, size_t *len, struct err *e)
{
	char *buf;
	size_t n = 0, start = 0;
	ssize_t r;

	if ((buf = malloc(JWT_MAX_TOKEN_LEN + 2)) == NULL)
		return err_set(e, ERR_NOMEM, "token");
	if (o->token_arg != NULL) {
		n = strlen(o->token_arg);
		if (n > JWT_MAX_TOKEN_LEN + 1)
			n = JWT_MAX_TOKEN_LEN + 1;
		memcpy(buf, o->token_arg, n);
	} else {
		while (n < JWT_MAX_TOKEN_LEN + 1 &&
		       (r = read(STDIN_FILENO, buf + n,
		            JWT_MAX_TOKEN_LEN + 1 - n)) > 0)
			n += (size_t)r;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
	                    buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	while (start < n &&
	       (buf[start] == ' ' || buf[start] == '\t' || buf[start] == '\n'))
		start++;
	memmove(buf, buf + start, n - start);
	n -= start;
	buf[n] = '\0';
	if (n == 0 || n > JWT_MAX_TOKEN_LEN) {
		free(buf);
		return err_set(e, ERR_INVALID_REQUEST,
		    "expected a token of 1..%d bytes", JWT_MAX_TOKEN_LEN);
	}
	*out = buf;
	*len = n;
	return 0;
}

/* One dot-separated part decoded for display only. */
static struct json_object *
admin_inspect_part(const char *b64, size_t len, struct err *e)
{
	struct json_object *obj = NULL;
	unsigned char *raw = NULL;
	size_t rawlen = 0;

	if (b64url_decode(b64, len, &raw, &rawlen, e) == 0)
		json_parse_strict((const char *)raw, rawlen,
		    JSON_DEFAULT_MAX_DEPTH, ERR_TOKEN_MALFORMED, &obj, e);
	free(raw);
	return obj;
}

static void
admin_inspect_print_json(
    const char *title, struct json_object *obj, const struct err *e)
{
	printf("%s:\n", title);
	if (obj == NULL) {
		printf("  (not decodable: %s)\n", e->msg);
		return;
	}
	printf("%s\n",
	    json_object_to_json_string_ext(
	        obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* A duration for people: the two largest units. */
static void
admin_inspect_span(int64_t d, char *buf, size_t len)
{
	if (d >= 86400)
		snprintf(buf, len, "%lld d %lld h", (long long)(d / 86400),
		    (long long)(d % 86400 / 3600));
	else if (d >= 3600)
		snprintf(buf, len, "%lld h %lld min", (long long)(d / 3600),
		    (long long)(d % 3600 / 60));
	else
		snprintf(buf, len, "%lld min %lld s", (long long)(d / 60),
		    (long long)(d % 60));
}

static void
admin_inspect_print_time(
    struct json_object *payload, const char *name, int64_t now)
{
	struct json_object *v = NULL;
	char when[40], span[48];
	time_t t;
	struct tm tm;
	int64_t d, secs;

	if (!json_object_object_get_ex(payload, name, &v))
		return;
	if (json_get_numeric_date(v, &secs) == -1) {
		printf("  %-4s  (not a NumericDate)\n", name);
		return;
	}
	t = (time_t)secs;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(when, sizeof(when), "%lld", (long long)secs);
	d = secs - now;
	admin_inspect_span(d >= 0 ? d : -d, span, sizeof(span));
	printf("  %-4s  %s  (%s%s%s)\n", name, when, d >= 0 ? "in " : "", span,
	    d >= 0 ? "" : " ago");
}

/* Header, claims and times; the parts are decoded independently of the
 * verification, so even a refused token can be looked at. */
static void
admin_inspect_show(const char *token, size_t len, int64_t now)
{
	const char *dot1 = memchr(token, '.', len), *dot2 = NULL;
	struct json_object *h = NULL, *p = NULL;
	struct err he = { 0 }, pe = { 0 };

	if (dot1 != NULL)
		dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
	if (dot1 == NULL || dot2 == NULL) {
		printf("not a JWS compact serialization (RFC 7515 7.1): "
		       "expected three dot-separated parts\n");
		return;
	}
	h = admin_inspect_part(token, (size_t)(dot1 - token), &he);
	p = admin_inspect_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), &pe);
	admin_inspect_print_json("header", h, &he);
	admin_inspect_print_json("claims", p, &pe);
	if (p != NULL && json_object_is_type(p, json_type_object)) {
		printf("times (UTC):\n");
		admin_inspect_print_time(p, "iat", now);
		admin_inspect_print_time(p, "nbf", now);
		admin_inspect_print_time(p, "exp", now);
	}
	json_object_put(h);
	json_object_put(p);
}

/* The verification keys from the chosen source; *what names it. */
static int
admin_inspect_keys(const struct admin_inspect_opts *o, struct jwks **out,
    char *what, size_t what_len, struct err *e)
{
	struct jwks *set = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc = -1;

	*out = NULL;
	if (o->n_keys > 0) {
		if ((set = jwks_new()) == NULL) {
			err_set(e, ERR_NOMEM, "jwks");
			goto out;
		}
		for (size_t i = 0; i < o->n_keys; i++) {
			struct jws_key *k = jwk_load_public_pem(o->keys[i], e);
			/* A chosen kid beside the PEM (key_dir.h). */
			if (k != NULL &&
			    key_dir_apply_kid(o->keys[i], k, e) == -1) {
				jwk_free(k);
				goto out;
			}
			if (k == NULL || jwks_add(set, k, e) == -1)
				goto out;
		}
		snprintf(what, what_len, "%zu PEM key(s)", o->n_keys);
	} else {
		if (o->jwks_file != NULL) {
			if (config_read_file(o->jwks_file, ADMIN_FETCH_MAX,
			        &text, &len, e) == -1)
				goto out;
		} else {
			struct err fe = { 0 };
			if (admin_fetch(o->jwks_url, &text, &len, &fe) == -1) {
				err_set(
				    e, fe.code, "%s: %s", o->jwks_url, fe.msg);
				goto out;
			}
		}
		struct err je = { 0 };
		if ((set = jwks_from_json_text(text, len, &je)) == NULL) {
			/* Name the source: "json: unexpected byte" alone does
			 * not say which input was wrong. */
			err_set(e, je.code, "%s: not a JWK Set: %s",
			    o->jwks_file != NULL ? o->jwks_file : o->jwks_url,
			    je.msg);
			goto out;
		}
		snprintf(what, what_len, "the JWKS of %s",
		    o->jwks_file != NULL ? o->jwks_file : o->jwks_url);
	}
	*out = set;
	set = NULL;
	rc = 0;
out:
	free(text);
	jwks_free(set);
	return rc;
}

static void
admin_inspect_print_steps(const struct explain *x)
{
	static const char *const marks[] = {
		[EXPLAIN_PASS] = "ok",
		[EXPLAIN_FAIL] = "FAIL",
		[EXPLAIN_NOT_REACHED] = "--",
	};

	printf("checks, in order:\n");
	for (size_t i = 0; i < x->n; i++) {
		const struct explain_step *s = &x->steps[i];
		printf("  %-4s  %-19s  %s — %s\n", marks[s->result], s->check,
		    s->result == EXPLAIN_NOT_REACHED ? "not reached"
		                                     : s->detail,
		    s->rfc);
	}
}

int
admin_inspect_main(struct admin_cli *cli, int argc, char **argv)
{
	struct admin_inspect_opts o;
	struct verify_policy p = { 0 };
	struct access_token *t = NULL;
	struct jwks *keys = NULL;
	struct explain *x = NULL;
	struct err e = { 0 };
	char *token = NULL, what[512];
	size_t len = 0;
	int64_t now = (int64_t)time(NULL);
	int status = ADMIN_EXIT_FAIL;
	int parsed;

	if ((parsed = admin_inspect_parse(cli, argc, argv, &o)) != 0)
		return admin_cli_parse_exit(parsed);
	if (admin_inspect_read(&o, &token, &len, &e) == -1)
		return admin_cli_fail(ADMIN_EXIT_USAGE, &e);
	admin_inspect_show(token, len, now);
	if (o.n_keys == 0 && o.jwks_file == NULL && o.jwks_url == NULL) {
		printf("signature: NOT VERIFIED (give --key, --jwks or "
		       "--jwks-url)\n");
		status = ADMIN_EXIT_OK;
		goto out;
	}
	if (admin_inspect_keys(&o, &keys, what, sizeof(what), &e) == -1) {
		admin_cli_fail(ADMIN_EXIT_USAGE, &e);
		status = ADMIN_EXIT_USAGE;
		goto out;
	}
	p = (struct verify_policy){ .keys = keys,
		.issuer = o.iss,
		.audience = o.aud,
		.leeway = o.leeway };
	printf("verified against %s; issuer \"%s\", audience \"%s\", leeway "
	       "%lld s\n",
	    what, o.iss, o.aud, o.leeway);
	if (o.explain) {
		if ((x = calloc(1, sizeof(*x))) == NULL) {
			err_set(&e, ERR_NOMEM, "explain");
			admin_cli_fail(ADMIN_EXIT_FAIL, &e);
			goto out;
		}
		explain_token(token, len, &p, x);
		admin_inspect_print_steps(x);
		e = x->verdict;
	} else {
		verify_access_token(token, len, &p, &t, &e);
	}
	if (e.code == ERR_OK) {
		printf("result: VALID\n");
		status = ADMIN_EXIT_OK;
	} else {
		printf(
		    "result: INVALID (%s): %s\n", err_code_name(e.code), e.msg);
	}
out:
	access_token_free(t);
	free(x);
	jwks_free(keys);
	free(token);
	return status;
}
