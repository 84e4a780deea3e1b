/* admin_cli: settings, lists and error lines for jwt-admin. */
#include "admin_cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
admin_cli_load(struct admin_cli *cli, const char *config_path, struct err *e)
{
	/* config_load() reads flags too; only --config is passed, so the
	 * tool's own options never reach the daemon's table. */
	char *argv[] = { "jwt-admin", "--config", (char *)config_path, NULL };
	struct config_cli cc;

	*cli = (struct admin_cli){ .config_path = config_path };
	auth_config_defaults(&cli->cfg);
	if (config_load(AUTH_CONFIG_DEFAULT_PATH, auth_config_fields,
	        auth_config_n_fields, &cli->cfg, AUTH_CONFIG_ENV_PREFIX,
	        config_path != NULL ? 3 : 1, argv, &cc, e) == -1)
		return -1;
	cli->loaded = true;
	cli->config_path = cc.config_path;
	/* A derived issuer uses the configured port: only the daemon knows
	 * a port 0 it was given. */
	if (auth_config_check(&cli->cfg, cc.config_path, e) == -1 ||
	    auth_config_issuer(&cli->cfg, cli->cfg.port, cli->issuer,
	        sizeof(cli->issuer), e) == -1)
		return -1;
	return 0;
}

void
admin_cli_free(struct admin_cli *cli)
{
	if (cli->loaded)
		config_free(
		    auth_config_fields, auth_config_n_fields, &cli->cfg);
	cli->loaded = false;
}

void
admin_cli_strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

int
admin_cli_split(const char *list, char ***out, size_t *n, struct err *e)
{
	char **v = NULL;
	size_t count = 1, i = 0;
	const char *p = list, *comma;

	*out = NULL;
	*n = 0;
	for (const char *q = list; *q != '\0'; q++)
		count += *q == ',';
	if ((v = calloc(count + 1, sizeof(*v))) == NULL)
		return err_set(e, ERR_NOMEM, "list");
	while (*list != '\0') {
		size_t len;

		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0) {
			admin_cli_strv_free(v);
			return err_set(e, ERR_INVALID_REQUEST,
			    "empty item in \"%s\"", list);
		}
		if ((v[i] = strndup(p, len)) == NULL) {
			admin_cli_strv_free(v);
			return err_set(e, ERR_NOMEM, "list");
		}
		i++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*out = v;
	*n = i;
	return 0;
}

int
admin_cli_fail(int status, const struct err *e)
{
	fprintf(stderr, "jwt-admin: %s\n", e->msg);
	return status;
}

int
admin_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "jwt-admin %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see jwt-admin %s --help)\n", cmd);
	return ADMIN_EXIT_USAGE;
}

int
admin_cli_bad_option(const char *cmd, int argc, char **argv)
{
	const char *prev = NULL;

	if (optind >= 1 && optind - 1 < argc)
		prev = argv[optind - 1];
	/* A long option: getopt has stepped past it. optopt is 0 when it is
	 * unknown, else the option lacks its value or has one it takes not.
	 * An unknown short option may sit inside a cluster ("-CEd"), where
	 * optind has not moved: name the letter. */
	if (prev != NULL && strncmp(prev, "--", 2) == 0) {
		if (optopt == 0)
			return admin_cli_usage_error(
			    cmd, "bad option \"%s\"", prev);
		if (strchr(prev, '=') != NULL)
			return admin_cli_usage_error(
			    cmd, "%s: takes no value", prev);
		return admin_cli_usage_error(cmd, "%s: missing value", prev);
	}
	if (optopt > 0 && optopt < 128)
		return admin_cli_usage_error(
		    cmd, "bad option \"-%c\"", (char)optopt);
	return admin_cli_usage_error(cmd, "bad option");
}

void
admin_cli_opts_begin(void)
{
	optind = 0; /* 0: glibc starts a fresh scan */
	opterr = 0;
}

int
admin_cli_opts_other(
    int c, const char *cmd, int argc, char **argv, void (*usage)(FILE *f))
{
	if (c == 'h') {
		usage(stdout);
		return 1;
	}
	admin_cli_bad_option(cmd, argc, argv);
	return -1;
}

int
admin_cli_parse_exit(int parsed)
{
	return parsed == 1 ? ADMIN_EXIT_OK : ADMIN_EXIT_USAGE;
}

int
admin_cli_group_help(int argc, char **argv, void (*usage)(FILE *f))
{
	if (argc < 1) {
		usage(stderr);
		return ADMIN_EXIT_USAGE;
	}
	if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		usage(stdout);
		return ADMIN_EXIT_OK;
	}
	return -1;
}

struct store *
admin_cli_store_open(const struct admin_cli *cli, struct err *e)
{
	return store_open(cli->cfg.db, (int)cli->cfg.db_busy_timeout_ms, e);
}

int
admin_cli_int(const char *cmd, const char *opt, const char *text, long long min,
    long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
		admin_cli_usage_error(cmd,
		    "%s: expected an integer %lld..%lld, "
		    "got \"%s\"",
		    opt, min, max, text);
		return -1;
	}
	*out = v;
	return 0;
}

void
admin_cli_dirname(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(buf, len, ".");
	else if (slash == path)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(slash - path), path);
}
