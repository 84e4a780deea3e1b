/* config: a daemon's settings from a JSON file, then environment variables,
 * then command-line flags, each overriding the one before, checked against
 * one table of fields. Errors name the source, the field and the problem:
 *   auth.json: access_ttl: expected an integer 60..86400, got "15m"
 * and the daemon exits with status 2. */
#ifndef JWT_CONFIG_H
#define JWT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

enum config_type {
	CONFIG_STRING,  /* char * (malloc'd; config_free frees) */
	CONFIG_INT,     /* int64_t within [min, max] */
	CONFIG_BOOL,    /* bool: JSON true/false; env/flag 1/0/true/false */
	CONFIG_STRLIST, /* char ** NULL-terminated: JSON array of strings, or
	                   comma-separated in the environment and flags */
};

struct config_field {
	const char *name; /* JSON key; flag is --name with '_' -> '-';
	                     environment is PREFIX_NAME upper-cased */
	enum config_type type;
	size_t offset;    /* offsetof(struct your_config, member) */
	int64_t min, max; /* CONFIG_INT bounds; CONFIG_STRING: min 1 = must
	                     not be empty */
	const char *help; /* one line, with the unit; config_usage adds the
	                     default */
};

/* The rows both daemons' tables share, word for word, for a settings
 * struct type T that has these members: the metrics endpoint (bool
 * metrics, char *metrics_bind, int64_t metrics_port), the proxies whose
 * X-Forwarded-For is believed (char **trusted_proxies) and HTTPS (char
 * *tls_cert, *tls_key). One definition, so --help and the bounds cannot
 * drift apart between auth_service and resource_service. */
/* clang-format off */
#define CONFIG_FIELDS_HTTP_SHARED(T) \
	{ "metrics", CONFIG_BOOL, offsetof(T, metrics), 0, 0, \
	    "serve Prometheus metrics at GET /metrics" }, \
	{ "metrics_bind", CONFIG_STRING, offsetof(T, metrics_bind), 0, 0, \
	    "address of a listener of its own for /metrics, \"\" = on the " \
	    "main listener" }, \
	{ "metrics_port", CONFIG_INT, offsetof(T, metrics_port), 0, 65535, \
	    "port of the metrics listener, 0 = any free" }, \
	{ "trusted_proxies", CONFIG_STRLIST, offsetof(T, trusted_proxies), \
	    0, 0, "proxies (addresses or CIDRs) whose X-Forwarded-For names " \
	    "the client" }, \
	{ "tls_cert", CONFIG_STRING, offsetof(T, tls_cert), 0, 0, \
	    "PEM certificate chain: serve HTTPS, \"\" = plain HTTP" }, \
	{ "tls_key", CONFIG_STRING, offsetof(T, tls_key), 0, 0, \
	    "PEM private key of tls_cert" }
/* clang-format on */

struct config_cli {
	const char *config_path; /* --config FILE, or the default */
	bool help;               /* --help / -h */
	bool version;            /* --version */
	bool check_config;       /* --check-config */
};

/* Loads dst, whose members hold their defaults on entry:
 * 1. argv is scanned for --config FILE (or --config=FILE), --help,
 *    --version and --check-config (after --help or --version nothing
 *    else is read);
 * 2. the file is read (a missing default file is fine; a missing file
 *    named by --config is an error); unknown keys are errors;
 * 3. environment variables env_prefix + "_" + NAME;
 * 4. flags --name VALUE or --name=VALUE; an unknown flag is an error.
 * Error: ERR_CONFIG with the one-line message in e->msg. */
int config_load(const char *default_path, const struct config_field *fields,
    size_t n, void *dst, const char *env_prefix, int argc, char **argv,
    struct config_cli *cli, struct err *e);

/* Frees every CONFIG_STRING and CONFIG_STRLIST member of dst. */
void config_free(const struct config_field *fields, size_t n, void *dst);

/* Prints "usage: program [--config FILE] [--check-config] [options]" and
 * one line per field: flag, help and, in parentheses, its value in
 * defaults, if not NULL (so a default is written once: where the struct
 * is filled). */
void config_usage(FILE *out, const char *program, const char *default_path,
    const struct config_field *fields, size_t n, const char *env_prefix,
    const void *defaults);

/* Reads a whole small file (bounded by max bytes) into a malloc'd
 * NUL-terminated buffer. ERR_IO / ERR_CONFIG naming the path. */
int config_read_file(
    const char *path, size_t max, char **out, size_t *len, struct err *e);

#endif
