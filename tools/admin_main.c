/* jwt-admin: the operator's tool for the auth service: keys (generate,
 * list, rotate, retire), users (add, passwd, roles, list, delete), OAuth
 * clients (add, list, remove, secret) and tokens (mint, inspect). It reads the
 * daemon's own settings, so it works on the same database and keys; this file
 * only dispatches. */
#include <stdio.h>
#include <string.h>

#include "admin_cli.h"
#include "admin_clients.h"
#include "admin_keys.h"
#include "admin_token.h"
#include "admin_users.h"
#include "log.h"
#include "secret.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: jwt-admin [--config FILE] GROUP COMMAND [options]\n"
	    "  keys   generate | list | rotate | retire KID\n"
	    "  users  add NAME | passwd NAME | roles NAME R1,R2 | list | "
	    "delete NAME\n"
	    "  clients add ID | list | remove ID | secret ID\n"
	    "  token  mint --sub SUB | inspect [TOKEN] [--explain]\n"
	    "--config names the auth service's settings file (default %s;\n"
	    "AUTH_* environment variables apply as for the daemon). "
	    "\"jwt-admin GROUP\n"
	    "--help\" shows a group's options. Exit status: 0 ok, 1 failed "
	    "or invalid,\n"
	    "2 usage or configuration error.\n",
	    AUTH_CONFIG_DEFAULT_PATH);
}

int
main(int argc, char **argv)
{
	struct admin_cli cli = { 0 };
	const char *config_path = NULL;
	struct err e = { 0 };
	int i = 1, status;

	log_set_program("jwt-admin");
	log_set_level(LOG_WARN);
	if (i < argc && strncmp(argv[i], "--config=", 9) == 0) {
		config_path = argv[i] + 9;
		i++;
	} else if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
		config_path = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		usage(stderr);
		return ADMIN_EXIT_USAGE;
	}
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
		usage(stdout);
		return ADMIN_EXIT_OK;
	}
	if (secret_init() == -1) {
		fprintf(stderr, "jwt-admin: libsodium failed to initialise\n");
		return ADMIN_EXIT_FAIL;
	}
	if (admin_cli_load(&cli, config_path, &e) == -1) {
		admin_cli_free(&cli);
		return admin_cli_fail(ADMIN_EXIT_USAGE, &e);
	}
	if (strcmp(argv[i], "keys") == 0)
		status = admin_keys_main(&cli, argc - i - 1, argv + i + 1);
	else if (strcmp(argv[i], "users") == 0)
		status = admin_users_main(&cli, argc - i - 1, argv + i + 1);
	else if (strcmp(argv[i], "clients") == 0)
		status = admin_clients_main(&cli, argc - i - 1, argv + i + 1);
	else if (strcmp(argv[i], "token") == 0)
		status = admin_token_main(&cli, argc - i - 1, argv + i + 1);
	else {
		fprintf(stderr, "jwt-admin: unknown group \"%s\"\n", argv[i]);
		usage(stderr);
		status = ADMIN_EXIT_USAGE;
	}
	admin_cli_free(&cli);
	return status;
}
