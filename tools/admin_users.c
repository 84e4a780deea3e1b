/* admin_users: user administration. Creation and role changes go through
 * the store interface (store_seed_user writes a user and its roles in one
 * transaction, with a fresh random sub); the rest through the store's operator
 * calls. Passwords come from admin_prompt, never from argv, and are hashed with
 * the daemon's configured argon2id cost. */
#include "admin_users.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin_prompt.h"
#include "password.h"
#include "password_policy.h"
#include "permissions.h"
#include "secret.h"
#include "seed.h"

struct admin_users_opts {
	const char *roles; /* --roles, or NULL */
	bool password_stdin;
	bool json;
};

static void
admin_users_usage(FILE *f)
{
	fprintf(f,
	    "usage: jwt-admin users add NAME [--roles R1,R2] "
	    "[--password-stdin]\n"
	    "       jwt-admin users passwd NAME [--password-stdin]\n"
	    "       jwt-admin users roles NAME R1,R2   (\"\" for none)\n"
	    "       jwt-admin users list [--json]\n"
	    "       jwt-admin users delete NAME\n"
	    "The database, argon2id cost, secrets and permissions files are "
	    "the\n"
	    "auth service's (--config, AUTH_* variables). A password is read "
	    "from\n"
	    "the terminal without echo, or as one line of standard input; "
	    "never\n"
	    "from the command line. passwd ends the user's sessions.\n");
}

/* 0 to go on (argv[optind..] are the operands), 1 after --help, -1 on a
 * usage error. */
static int
admin_users_parse(
    int argc, char **argv, struct admin_users_opts *o, const char *cmd)
{
	static const struct option opts[] = {
		{ "roles", required_argument, NULL, 'r' },
		{ "password-stdin", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct admin_users_opts){ 0 };
	admin_cli_opts_begin();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->roles = optarg;
			break;
		case 'p':
			o->password_stdin = true;
			break;
		case 'j':
			o->json = true;
			break;
		default:
			return admin_cli_opts_other(
			    c, cmd, argc, argv, admin_users_usage);
		}
	}
	return 0;
}

/* A name /login can be asked for: 1..STORE_MAX_USERNAME bytes, no
 * control characters (they would only ever reach a log line). */
static int
admin_users_check_name(const char *name, struct err *e)
{
	size_t n = strlen(name);

	if (n == 0 || n > STORE_MAX_USERNAME)
		return err_set(e, ERR_INVALID_REQUEST,
		    "user name: expected 1..%d bytes", STORE_MAX_USERNAME);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return err_set(e, ERR_INVALID_REQUEST,
			    "user name: control character at byte %zu", i);
	return 0;
}

/* Roles from "a,b"; a role no entry of permissions.json grants anything
 * to is allowed (the file may come later) but worth a warning. */
static int
admin_users_roles(struct admin_cli *cli, const char *text, char ***roles,
    size_t *n, struct err *e)
{
	struct permissions *perms = NULL;
	struct err pe = { 0 };

	if (admin_cli_split(text, roles, n, e) == -1)
		return -1;
	if (*n > STORE_MAX_ROLES) {
		admin_cli_strv_free(*roles);
		*roles = NULL;
		return err_set(e, ERR_INVALID_REQUEST, "more than %d roles",
		    STORE_MAX_ROLES);
	}
	if (permissions_load(cli->cfg.permissions, &perms, &pe) == -1)
		return 0;
	for (size_t i = 0; i < *n; i++) {
		bool known = false;
		for (size_t j = 0; j < perms->n_roles; j++)
			known |= strcmp(perms->roles[j].name, (*roles)[i]) == 0;
		if (!known)
			fprintf(stderr,
			    "jwt-admin: warning: role \"%s\" is not in %s and "
			    "grants no permission\n",
			    (*roles)[i], cli->cfg.permissions);
	}
	permissions_free(perms);
	return 0;
}

/* Whether secrets.json names the user: its import at the next start or
 * SIGHUP sets the roles again (and recreates a deleted user). */
static void
admin_users_seed_note(struct admin_cli *cli, const char *name, const char *what)
{
	struct seed *s = NULL;
	struct err e = { 0 };

	if (access(cli->cfg.secrets, F_OK) != 0 ||
	    seed_load(cli->cfg.secrets, &s, &e) == -1)
		return;
	for (size_t i = 0; i < s->n_users; i++)
		if (s->users[i].username_len == strlen(name) &&
		    memcmp(s->users[i].username, name, strlen(name)) == 0)
			fprintf(stderr,
			    "jwt-admin: note: %s is listed in %s, whose import "
			    "at the next start or SIGHUP %s\n",
			    name, cli->cfg.secrets, what);
	seed_free(s);
}

static struct password_cost
admin_users_cost(const struct admin_cli *cli)
{
	return (struct password_cost){
		.opslimit = (unsigned long long)cli->cfg.argon2_opslimit,
		.memlimit = (size_t)cli->cfg.argon2_memlimit_kib * 1024,
	};
}

/* Reads and hashes a new password. */
static int
admin_users_new_hash(struct admin_cli *cli, const char *name, bool from_stdin,
    char hash[PASSWORD_HASH_MAX], struct err *e)
{
	struct password_cost cost = admin_users_cost(cli);
	char *pw = NULL;
	size_t len = 0;
	struct password_policy *policy = NULL;
	bool missing = false;
	int rc;

	/* The daemon's rules for a new password (password_policy.h). */
	if (password_policy_load(cli->cfg.common_passwords,
	        strcmp(cli->cfg.common_passwords,
	            AUTH_COMMON_PASSWORDS_DEFAULT) == 0,
	        &policy, &missing, e) == -1)
		return -1;
	if (missing)
		fprintf(stderr,
		    "jwt-admin: %s missing: checking the length only\n",
		    cli->cfg.common_passwords);
	rc = admin_prompt_password(name, from_stdin, &pw, &len, e);
	if (rc == 0)
		rc = password_policy_check(
		    policy, name, strlen(name), pw, len, e);
	if (rc == 0)
		rc = password_hash(&cost, pw, len, hash, e);
	secret_free_str(pw);
	password_policy_free(policy);
	return rc;
}

/* The database must exist for anything but "add": a typo in --db should
 * not quietly create an empty one. */
static int
admin_users_need_db(const struct admin_cli *cli, struct err *e)
{
	if (!store_exists(cli->cfg.db))
		return err_set(e, ERR_IO,
		    "%s: no database (start auth_service once, or use "
		    "\"users add\")",
		    cli->cfg.db);
	return 0;
}

static int
admin_users_add(
    struct admin_cli *cli, const struct admin_users_opts *o, const char *name)
{
	struct store *st = NULL;
	struct store_user *u = NULL;
	char **roles = NULL;
	size_t n_roles = 0;
	char hash[PASSWORD_HASH_MAX] = "";
	struct err e = { 0 };
	int status = ADMIN_EXIT_FAIL;

	if (admin_users_check_name(name, &e) == -1 ||
	    admin_users_roles(cli, o->roles != NULL ? o->roles : "", &roles,
	        &n_roles, &e) == -1)
		return admin_cli_fail(ADMIN_EXIT_USAGE, &e);
	if ((st = admin_cli_store_open(cli, &e)) == NULL ||
	    store_find_user(st, name, strlen(name), &u, &e) == -1)
		goto fail;
	if (u != NULL) {
		err_set(&e, ERR_INVALID_REQUEST,
		    "user \"%s\" exists (use \"users passwd\" or \"users "
		    "roles\")",
		    name);
		goto fail;
	}
	if (admin_users_new_hash(cli, name, o->password_stdin, hash, &e) == -1)
		goto fail;
	{
		struct store_seed_user su = { name, strlen(name),
			(const char *const *)roles, n_roles };
		if (store_seed_user(
		        st, &su, hash, NULL, (int64_t)time(NULL), &e) == -1)
			goto fail;
	}
	printf("added user %s with %zu role(s)\n", name, n_roles);
	status = ADMIN_EXIT_OK;
	goto out;
fail:
	admin_cli_fail(ADMIN_EXIT_FAIL, &e);
out:
	secret_wipe(hash, sizeof(hash));
	store_user_free(u);
	store_free(st);
	admin_cli_strv_free(roles);
	return status;
}

static int
admin_users_passwd(
    struct admin_cli *cli, const struct admin_users_opts *o, const char *name)
{
	struct store *st = NULL;
	char hash[PASSWORD_HASH_MAX] = "";
	struct err e = { 0 };
	int64_t revoked = 0;
	bool found = false;
	int status = ADMIN_EXIT_FAIL;

	if (admin_users_need_db(cli, &e) == -1 ||
	    (st = admin_cli_store_open(cli, &e)) == NULL)
		goto fail;
	if (admin_users_new_hash(cli, name, o->password_stdin, hash, &e) ==
	        -1 ||
	    store_set_password(st, name, hash, (int64_t)time(NULL), &found,
	        &revoked, &e) == -1)
		goto fail;
	if (!found) {
		err_set(&e, ERR_NOT_FOUND, "no user \"%s\"", name);
		goto fail;
	}
	printf("password of %s changed; %lld session(s) ended\n", name,
	    (long long)revoked);
	status = ADMIN_EXIT_OK;
	goto out;
fail:
	admin_cli_fail(ADMIN_EXIT_FAIL, &e);
out:
	secret_wipe(hash, sizeof(hash));
	store_free(st);
	return status;
}

static int
admin_users_set_roles(struct admin_cli *cli, const char *name, const char *list)
{
	struct store *st = NULL;
	struct store_user *u = NULL;
	char **roles = NULL;
	size_t n_roles = 0;
	struct err e = { 0 };
	int status = ADMIN_EXIT_FAIL;

	if (admin_users_roles(cli, list, &roles, &n_roles, &e) == -1)
		return admin_cli_fail(ADMIN_EXIT_USAGE, &e);
	if (admin_users_need_db(cli, &e) == -1 ||
	    (st = admin_cli_store_open(cli, &e)) == NULL ||
	    store_find_user(st, name, strlen(name), &u, &e) == -1)
		goto fail;
	if (u == NULL) {
		err_set(&e, ERR_NOT_FOUND, "no user \"%s\"", name);
		goto fail;
	}
	{
		/* No new hash: store_seed_user writes the roles only. */
		struct store_seed_user su = { name, strlen(name),
			(const char *const *)roles, n_roles };
		if (store_seed_user(
		        st, &su, NULL, NULL, (int64_t)time(NULL), &e) == -1)
			goto fail;
	}
	printf("roles of %s: %s (the next access token carries them)\n", name,
	    list[0] != '\0' ? list : "(none)");
	admin_users_seed_note(cli, name, "sets its roles again");
	status = ADMIN_EXIT_OK;
	goto out;
fail:
	admin_cli_fail(ADMIN_EXIT_FAIL, &e);
out:
	store_user_free(u);
	store_free(st);
	admin_cli_strv_free(roles);
	return status;
}

static void
admin_users_date(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

static int
admin_users_print_json(const struct store_user_summary *u, size_t n)
{
	struct json_object *arr = json_object_new_array();
	int rc = -1;

	if (arr == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		struct json_object *roles = json_tokener_parse(u[i].roles);
		if (o == NULL || json_object_array_add(arr, o) != 0) {
			json_object_put(o);
			json_object_put(roles);
			goto out;
		}
		json_object_object_add(
		    o, "username", json_object_new_string(u[i].username));
		json_object_object_add(
		    o, "sub", json_object_new_string(u[i].sub));
		json_object_object_add(o, "roles",
		    roles != NULL ? roles : json_object_new_array());
		json_object_object_add(
		    o, "created_at", json_object_new_int64(u[i].created_at));
		json_object_object_add(
		    o, "updated_at", json_object_new_int64(u[i].updated_at));
		json_object_object_add(
		    o, "sessions", json_object_new_int64(u[i].sessions));
	}
	printf("%s\n",
	    json_object_to_json_string_ext(
	        arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	rc = 0;
out:
	json_object_put(arr);
	return rc;
}

static int
admin_users_list(struct admin_cli *cli, const struct admin_users_opts *o)
{
	struct store_user_summary *u = NULL;
	struct store *st = NULL;
	struct err e = { 0 };
	size_t n = 0;
	char date[32];
	int status = ADMIN_EXIT_FAIL;

	if (admin_users_need_db(cli, &e) == -1 ||
	    (st = admin_cli_store_open(cli, &e)) == NULL ||
	    store_list_users(st, (int64_t)time(NULL), &u, &n, &e) == -1) {
		admin_cli_fail(ADMIN_EXIT_FAIL, &e);
		goto out;
	}
	if (o->json) {
		if (admin_users_print_json(u, n) == -1)
			goto out;
	} else {
		printf("%-20s  %-36s  %-8s  %-20s  %s\n", "USER", "SUB",
		    "SESSIONS", "UPDATED", "ROLES");
		for (size_t i = 0; i < n; i++) {
			admin_users_date(u[i].updated_at, date, sizeof(date));
			printf("%-20s  %-36s  %-8lld  %-20s  %s\n",
			    u[i].username, u[i].sub, (long long)u[i].sessions,
			    date, u[i].roles);
		}
	}
	status = ADMIN_EXIT_OK;
out:
	store_user_summaries_free(u, n);
	store_free(st);
	return status;
}

static int
admin_users_delete(struct admin_cli *cli, const char *name)
{
	struct store *st = NULL;
	struct err e = { 0 };
	bool found = false;
	int status = ADMIN_EXIT_FAIL;

	if (admin_users_need_db(cli, &e) == -1 ||
	    (st = admin_cli_store_open(cli, &e)) == NULL ||
	    store_delete_user(st, name, &found, &e) == -1)
		goto fail;
	if (!found) {
		err_set(&e, ERR_NOT_FOUND, "no user \"%s\"", name);
		goto fail;
	}
	/* Access tokens are not tracked: those already issued stay valid
	 * until their exp (at most access_ttl). */
	printf("deleted user %s and its sessions; access tokens already "
	       "issued expire within %lld s\n",
	    name, (long long)cli->cfg.access_ttl);
	admin_users_seed_note(cli, name, "creates it again");
	status = ADMIN_EXIT_OK;
	goto out;
fail:
	admin_cli_fail(ADMIN_EXIT_FAIL, &e);
out:
	store_free(st);
	return status;
}

int
admin_users_main(struct admin_cli *cli, int argc, char **argv)
{
	struct admin_users_opts o;
	const char *cmd;
	char label[32];
	int operands, want, status, parsed;

	if ((status = admin_cli_group_help(argc, argv, admin_users_usage)) !=
	    -1)
		return status;
	cmd = argv[0];
	snprintf(label, sizeof(label), "users %s", cmd);
	if (strcmp(cmd, "list") == 0)
		want = 0;
	else if (strcmp(cmd, "roles") == 0)
		want = 2;
	else if (strcmp(cmd, "add") == 0 || strcmp(cmd, "passwd") == 0 ||
	         strcmp(cmd, "delete") == 0)
		want = 1;
	else
		return admin_cli_usage_error(
		    "users", "unknown command \"%s\"", cmd);
	if ((parsed = admin_users_parse(argc, argv, &o, label)) != 0)
		return admin_cli_parse_exit(parsed);
	operands = argc - optind;
	if (operands != want)
		return admin_cli_usage_error(
		    label, "expected %d operand(s)", want);
	if (strcmp(cmd, "list") == 0)
		return admin_users_list(cli, &o);
	if (strcmp(cmd, "add") == 0)
		return admin_users_add(cli, &o, argv[optind]);
	if (strcmp(cmd, "passwd") == 0)
		return admin_users_passwd(cli, &o, argv[optind]);
	if (strcmp(cmd, "roles") == 0)
		return admin_users_set_roles(
		    cli, argv[optind], argv[optind + 1]);
	return admin_users_delete(cli, argv[optind]);
}
