/* resource_config: the settings of resource_service, their defaults, the
 * one field table config_load() checks them against (config/resource.json,
 * then RESOURCE_* environment variables, then --flags), and the checks
 * that span fields. */
#ifndef RESOURCE_CONFIG_H
#define RESOURCE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "log.h"

#define RESOURCE_CONFIG_DEFAULT_PATH "config/resource.json"
#define RESOURCE_CONFIG_ENV_PREFIX "RESOURCE"
#define RESOURCE_OPENAPI_DIR_DEFAULT "docs/openapi"
#define RESOURCE_MAX_WORKERS 256

struct resource_config {
	char *bind;
	int64_t port;
	int64_t workers; /* 0: one per core */
	char *issuer;
	char *audience;
	int64_t leeway;
	char **public_keys;
	char *jwks_url;
	int64_t jwks_min_age;
	int64_t jwks_max_age;
	int64_t jwks_refetch_interval;
	int64_t jwks_unknown_kid_ttl;
	int64_t jwks_timeout;
	char *routes;
	int64_t token_cache_size;
	int64_t max_header_size;
	int64_t idle_timeout;
	int64_t max_connections;        /* 0: the descriptor limit less 64 */
	int64_t max_client_connections; /* 0: no cap */
	int64_t header_timeout;
	int64_t body_timeout;
	bool access_log;
	int64_t access_log_flush_ms; /* 0: each line written at once */
	char *log_level;
	char *cors_origin;
	char *openapi_dir;
	char *forward_auth_path;   /* "": no forward-auth endpoint */
	char **forward_auth_peers; /* besides loopback */
	char *log_format;          /* json or text, every line */
	bool metrics;              /* GET /metrics */
	char *metrics_bind;        /* "": /metrics on the main listener */
	int64_t metrics_port;
	char **trusted_proxies; /* whose X-Forwarded-For is believed */
	char *tls_cert;         /* "": plain HTTP */
	char *tls_key;
	char *jwks_ca_file; /* https jwks_url: "" = the system's CAs */
};

extern const struct config_field resource_config_fields[];
extern const size_t resource_config_n_fields;

/* Every member at its default (strings are literals until config_load
 * takes copies). */
void resource_config_defaults(struct resource_config *c);

/* Checks that need more than one field, or a file; source names the
 * configuration in the one-line error. */
int resource_config_check(
    const struct resource_config *c, const char *source, struct err *e);

/* The log_level setting (checked by resource_config_check). */
enum log_level resource_config_log_level(const struct resource_config *c);

/* The log_format setting (checked by resource_config_check). */
enum log_format resource_config_log_format(const struct resource_config *c);

struct forward_auth_peers;
/* The forward_auth_peers setting, parsed (forward_auth_peers_free). */
int resource_config_peers(const struct resource_config *c, const char *source,
    struct forward_auth_peers **out, struct err *e);

#endif
