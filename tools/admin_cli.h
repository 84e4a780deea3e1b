/* admin_cli: what every jwt-admin subcommand shares: the auth service's
 * own settings (config/auth.json, AUTH_* variables), so the tool works on
 * exactly the database, keys and token parameters the daemon uses; exit
 * statuses; comma-separated lists; and one-line errors. */
#ifndef AUTH_ADMIN_CLI_H
#define AUTH_ADMIN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "auth_config.h"
#include "err.h"
#include "store.h"

#define ADMIN_EXIT_OK 0
#define ADMIN_EXIT_FAIL 1  /* the operation failed or the token is invalid */
#define ADMIN_EXIT_USAGE 2 /* bad arguments or configuration */

struct admin_cli {
	struct auth_config cfg;
	const char *config_path;
	bool loaded;
	char issuer[AUTH_ISSUER_MAX]; /* auth_config_issuer */
};

/* Reads the daemon's settings: config_path (NULL: the default file,
 * which may be missing), then the AUTH_* environment. */
int admin_cli_load(
    struct admin_cli *cli, const char *config_path, struct err *e);
void admin_cli_free(struct admin_cli *cli);

/* Splits "a,b,c" into a NULL-terminated malloc'd array of malloc'd
 * strings; "" gives an empty list. Empty items are ERR_INVALID_REQUEST. */
int admin_cli_split(const char *list, char ***out, size_t *n, struct err *e);
void admin_cli_strv_free(char **v);

/* "jwt-admin: <msg>" on stderr; returns status. */
int admin_cli_fail(int status, const struct err *e);
/* A usage error: "jwt-admin <cmd>: <msg> (see --help)", returns 2. */
int admin_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* After getopt_long() returned '?': names the unknown option, or the
 * option whose value is missing, in a usage error; returns 2. */
int admin_cli_bad_option(const char *cmd, int argc, char **argv);

/* Every subcommand reads its options alike: admin_cli_opts_begin() before
 * its getopt_long() loop (a fresh scan, errors worded by us), and the
 * loop's default case returns admin_cli_opts_other(): for 'h' (--help)
 * the usage on stdout and 1, for anything getopt refused a usage error
 * and -1. */
void admin_cli_opts_begin(void);
int admin_cli_opts_other(
    int c, const char *cmd, int argc, char **argv, void (*usage)(FILE *f));
/* A subcommand's parse result other than 0 (go on) as its exit status:
 * 1 (--help shown) is ADMIN_EXIT_OK, -1 (usage error shown)
 * ADMIN_EXIT_USAGE. */
int admin_cli_parse_exit(int parsed);

/* The start of every group ("jwt-admin GROUP CMD ...", argv[0] the CMD):
 * with no CMD the usage on stderr and ADMIN_EXIT_USAGE, with --help or -h
 * the usage on stdout and ADMIN_EXIT_OK; -1 when there is a CMD to run. */
int admin_cli_group_help(int argc, char **argv, void (*usage)(FILE *f));

/* The daemon's database, opened with its busy timeout. */
struct store *admin_cli_store_open(const struct admin_cli *cli, struct err *e);

/* An integer option within [min, max]. */
int admin_cli_int(const char *cmd, const char *opt, const char *text,
    long long min, long long max, long long *out);

/* The directory part of a path ("keys/private_key.pem" -> "keys"), into
 * buf; "." when there is none. */
void admin_cli_dirname(const char *path, char *buf, size_t len);

#endif
