/* admin_clients: OAuth clients (RFC 6749 2): public ones (an id) and
 * confidential ones (an id and a generated secret of 256 bits, printed
 * once and stored only as its hash, client_secret.h). */
#include "admin_clients.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_secret.h"
#include "json_util.h"
#include "secret.h"
#include "store.h"

#define ADMIN_CLIENT_TTL_MIN 30 /* a teaching client may want short tokens */
#define ADMIN_CLIENT_TTL_MAX 86400

struct admin_clients_opts {
	bool public_client;
	const char *grants; /* comma-separated grant types */
	const char *roles;
	long long access_ttl;
	bool json;
};

static void
admin_clients_usage(FILE *f)
{
	fprintf(f,
	    "usage: jwt-admin clients add ID [--public] [--grants G1,G2]\n"
	    "                 [--roles R1,R2] [--access-ttl SECONDS]\n"
	    "       jwt-admin clients list [--json]\n"
	    "       jwt-admin clients remove ID\n"
	    "       jwt-admin clients secret ID\n"
	    "Grant types: password, refresh_token, client_credentials "
	    "(default:\n"
	    "client_credentials; with --public: password,refresh_token). "
	    "--roles\n"
	    "give a confidential client its permissions for "
	    "client_credentials.\n"
	    "--access-ttl (%d..%d) replaces access_ttl for the client's "
	    "tokens.\n"
	    "add (without --public) and secret print a new client secret "
	    "ONCE;\n"
	    "only its hash is stored. remove revokes the client's refresh "
	    "tokens.\n",
	    ADMIN_CLIENT_TTL_MIN, ADMIN_CLIENT_TTL_MAX);
}

/* 0 to go on, 1 after --help, -1 on a usage error. */
static int
admin_clients_parse(
    int argc, char **argv, struct admin_clients_opts *o, const char *cmd)
{
	static const struct option opts[] = {
		{ "public", no_argument, NULL, 'p' },
		{ "grants", required_argument, NULL, 'g' },
		{ "roles", required_argument, NULL, 'r' },
		{ "access-ttl", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct admin_clients_opts){ 0 };
	admin_cli_opts_begin();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->public_client = true;
			break;
		case 'g':
			o->grants = optarg;
			break;
		case 'r':
			o->roles = optarg;
			break;
		case 't':
			if (admin_cli_int(cmd, "--access-ttl", optarg,
			        ADMIN_CLIENT_TTL_MIN, ADMIN_CLIENT_TTL_MAX,
			        &o->access_ttl) == -1)
				return -1;
			break;
		case 'j':
			o->json = true;
			break;
		default:
			return admin_cli_opts_other(
			    c, cmd, argc, argv, admin_clients_usage);
		}
	}
	return 0;
}

/* client_id = *VSCHAR (RFC 6749 A.1); here 1..128 visible characters
 * without the space, so it prints and logs as one word. */
static int
check_id(const char *id, struct err *e)
{
	size_t n = strlen(id);

	if (n == 0 || n > STORE_MAX_CLIENT_ID)
		return err_set(e, ERR_INVALID_REQUEST,
		    "client id: 1..%d characters", STORE_MAX_CLIENT_ID);
	for (size_t i = 0; i < n; i++)
		if (id[i] < 0x21 || id[i] > 0x7e)
			return err_set(e, ERR_INVALID_REQUEST,
			    "client id: visible ASCII characters only");
	return 0;
}

static int
parse_grants(const char *list, unsigned *out, struct err *e)
{
	char **v = NULL;
	size_t n = 0;
	int rc = 0;

	*out = 0;
	if (admin_cli_split(list, &v, &n, e) == -1)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned bit = store_grant_type_parse(v[i], strlen(v[i]));
		if (bit == 0)
			rc = err_set(e, ERR_INVALID_REQUEST,
			    "unknown grant type \"%s\"", v[i]);
		*out |= bit;
	}
	admin_cli_strv_free(v);
	return rc;
}

static void
print_secret(const char *id, const char *secret)
{
	printf("client_id: %s\nclient_secret: %s\n"
	       "The secret is shown only now; only its hash is stored.\n",
	    id, secret);
}

static int
admin_clients_add(
    struct admin_cli *cli, const struct admin_clients_opts *o, const char *id)
{
	struct store_client c = { .client_id = (char *)id,
		.access_ttl = o->access_ttl };
	char secret[CLIENT_SECRET_LEN + 1] = "";
	char hash[CLIENT_SECRET_HASH_LEN + 1];
	struct store *st = NULL;
	struct err e = { 0 };
	size_t n_roles = 0;
	int status = ADMIN_EXIT_FAIL;

	if (check_id(id, &e) == -1 ||
	    parse_grants(o->grants != NULL  ? o->grants
	                 : o->public_client ? "password,refresh_token"
	                                    : "client_credentials",
	        &c.grant_types, &e) == -1 ||
	    admin_cli_split(
	        o->roles != NULL ? o->roles : "", &c.roles, &n_roles, &e) == -1)
		goto usage;
	c.n_roles = n_roles;
	if (o->public_client &&
	    (c.grant_types & STORE_GRANT_CLIENT_CREDENTIALS) != 0) {
		/* RFC 6749 4.4: confidential clients only. */
		err_set(&e, ERR_INVALID_REQUEST,
		    "client_credentials needs a confidential client");
		goto usage;
	}
	if (!o->public_client) {
		client_secret_new(secret);
		client_secret_hash(secret, CLIENT_SECRET_LEN, hash);
		c.secret_hash = hash;
	}
	if ((st = admin_cli_store_open(cli, &e)) == NULL ||
	    store_add_client(st, &c, (int64_t)time(NULL), &e) == -1) {
		admin_cli_fail(ADMIN_EXIT_FAIL, &e);
		goto out;
	}
	if (o->public_client)
		printf("client_id: %s (public: no secret)\n", id);
	else
		print_secret(id, secret);
	status = ADMIN_EXIT_OK;
	goto out;
usage:
	status = admin_cli_fail(ADMIN_EXIT_USAGE, &e);
out:
	secret_wipe(secret, sizeof(secret));
	admin_cli_strv_free(c.roles);
	store_free(st);
	return status;
}

static int
admin_clients_secret(struct admin_cli *cli, const char *id)
{
	char secret[CLIENT_SECRET_LEN + 1];
	char hash[CLIENT_SECRET_HASH_LEN + 1];
	struct store *st = NULL;
	struct err e = { 0 };
	bool found = false;
	int status = ADMIN_EXIT_FAIL;

	client_secret_new(secret);
	client_secret_hash(secret, CLIENT_SECRET_LEN, hash);
	if ((st = admin_cli_store_open(cli, &e)) == NULL ||
	    store_set_client_secret(st, id, hash, &found, &e) == -1)
		goto fail;
	if (!found) {
		err_set(&e, ERR_NOT_FOUND, "no client \"%s\"", id);
		goto fail;
	}
	/* The old secret stops working now; refresh tokens stay valid. */
	print_secret(id, secret);
	status = ADMIN_EXIT_OK;
	goto out;
fail:
	admin_cli_fail(ADMIN_EXIT_FAIL, &e);
out:
	secret_wipe(secret, sizeof(secret));
	store_free(st);
	return status;
}

static int
admin_clients_remove(struct admin_cli *cli, const char *id)
{
	struct store *st = NULL;
	struct err e = { 0 };
	bool found = false;
	int64_t revoked = 0;
	int status = ADMIN_EXIT_FAIL;

	if ((st = admin_cli_store_open(cli, &e)) == NULL ||
	    store_delete_client(
	        st, id, (int64_t)time(NULL), &found, &revoked, &e) == -1)
		goto fail;
	if (!found) {
		err_set(&e, ERR_NOT_FOUND, "no client \"%s\"", id);
		goto fail;
	}
	printf("removed client %s; %lld refresh token families revoked; "
	       "access tokens already issued expire on their own\n",
	    id, (long long)revoked);
	status = ADMIN_EXIT_OK;
	goto out;
fail:
	admin_cli_fail(ADMIN_EXIT_FAIL, &e);
out:
	store_free(st);
	return status;
}

static void
grant_names(unsigned g, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s",
	    (g & STORE_GRANT_PASSWORD) ? "password" : "",
	    (g & STORE_GRANT_PASSWORD) && (g & ~STORE_GRANT_PASSWORD) ? ","
	                                                              : "",
	    (g & STORE_GRANT_REFRESH_TOKEN) ? "refresh_token" : "",
	    (g & STORE_GRANT_REFRESH_TOKEN) &&
	            (g & STORE_GRANT_CLIENT_CREDENTIALS)
	        ? ","
	        : "",
	    (g & STORE_GRANT_CLIENT_CREDENTIALS) ? "client_credentials" : "");
}

static struct json_object *
client_json(const struct store_client *c, const char *grants)
{
	struct json_object *o = json_object_new_object();
	struct json_object *roles = json_object_new_array();

	if (o == NULL || roles == NULL) {
		json_object_put(o);
		json_object_put(roles);
		return NULL;
	}
	for (size_t i = 0; i < c->n_roles; i++)
		json_object_array_add(
		    roles, json_object_new_string(c->roles[i]));
	json_add_string(o, "client_id", c->client_id);
	json_add_string(
	    o, "type", c->secret_hash != NULL ? "confidential" : "public");
	json_add_string(o, "grant_types", grants);
	json_object_object_add(o, "roles", roles);
	json_object_object_add(
	    o, "access_ttl", json_object_new_int64(c->access_ttl));
	json_object_object_add(
	    o, "created_at", json_object_new_int64(c->created_at));
	return o;
}

static int
admin_clients_list(struct admin_cli *cli, const struct admin_clients_opts *o)
{
	struct store_client *c = NULL;
	struct json_object *arr = NULL;
	struct store *st = NULL;
	struct err e = { 0 };
	size_t n = 0;
	char grants[64];

	if ((st = admin_cli_store_open(cli, &e)) == NULL ||
	    store_list_clients(st, &c, &n, &e) == -1) {
		store_free(st);
		return admin_cli_fail(ADMIN_EXIT_FAIL, &e);
	}
	if (o->json)
		arr = json_object_new_array();
	else
		printf("%-24s %-12s %-40s %s\n", "CLIENT_ID", "TYPE", "GRANTS",
		    "ACCESS_TTL");
	for (size_t i = 0; i < n; i++) {
		grant_names(c[i].grant_types, grants, sizeof(grants));
		if (arr != NULL)
			json_object_array_add(arr, client_json(&c[i], grants));
		else
			printf("%-24s %-12s %-40s %lld\n", c[i].client_id,
			    c[i].secret_hash != NULL ? "confidential"
			                             : "public",
			    grants, (long long)c[i].access_ttl);
	}
	if (arr != NULL)
		printf("%s\n", json_object_to_json_string_ext(
		                   arr, JSON_C_TO_STRING_PLAIN |
		                            JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	store_clients_free(c, n);
	store_free(st);
	return ADMIN_EXIT_OK;
}

int
admin_clients_main(struct admin_cli *cli, int argc, char **argv)
{
	struct admin_clients_opts o;
	const char *cmd;
	char label[32];
	int want, status, parsed;

	if ((status = admin_cli_group_help(argc, argv, admin_clients_usage)) !=
	    -1)
		return status;
	cmd = argv[0];
	snprintf(label, sizeof(label), "clients %s", cmd);
	if (strcmp(cmd, "list") == 0)
		want = 0;
	else if (strcmp(cmd, "add") == 0 || strcmp(cmd, "remove") == 0 ||
	         strcmp(cmd, "secret") == 0)
		want = 1;
	else
		return admin_cli_usage_error(
		    "clients", "unknown command \"%s\"", cmd);
	if ((parsed = admin_clients_parse(argc, argv, &o, label)) != 0)
		return admin_cli_parse_exit(parsed);
	if (argc - optind != want)
		return admin_cli_usage_error(
		    label, "expected %d operand(s)", want);
	if (strcmp(cmd, "list") == 0)
		return admin_clients_list(cli, &o);
	if (strcmp(cmd, "add") == 0)
		return admin_clients_add(cli, &o, argv[optind]);
	if (strcmp(cmd, "secret") == 0)
		return admin_clients_secret(cli, argv[optind]);
	return admin_clients_remove(cli, argv[optind]);
}
