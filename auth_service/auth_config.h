/* auth_config: the settings of auth_service, their defaults, and the one
 * field table config_load() checks them against (config/auth.json, then
 * AUTH_* environment variables, then --flags). */
#ifndef AUTH_CONFIG_H
#define AUTH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "listener.h"

#define AUTH_CONFIG_DEFAULT_PATH "config/auth.json"
#define AUTH_CONFIG_ENV_PREFIX "AUTH"
/* Relative to the working directory, like every default path. */
#define AUTH_DEMO_DIR_DEFAULT "web/demo"
#define AUTH_OPENAPI_DIR_DEFAULT "docs/openapi"
#define AUTH_COMMON_PASSWORDS_DEFAULT "config/common-passwords.txt"

struct auth_config {
	char *bind;
	int64_t port;
	char *issuer;
	char *audience;
	char *client_id;
	int64_t access_ttl;
	int64_t refresh_ttl;
	int64_t family_ttl;
	char *private_key;
	char **public_keys; /* extra keys published for rotation */
	char *db;           /* a SQLite path (store_open) */
	int64_t db_threads; /* 0: one per online CPU */
	int64_t db_queue;
	char *refresh_key; /* the MAC key of refresh tokens */
	char *secrets;
	char *permissions;
	int64_t argon2_opslimit;
	int64_t argon2_memlimit_kib;
	int64_t hash_threads; /* 0: one per online CPU */
	int64_t hash_queue;
	int64_t hash_nice;
	int64_t max_body;
	int64_t max_headers;
	int64_t request_timeout;
	int64_t jwks_max_age;
	int64_t db_busy_timeout_ms;
	int64_t shutdown_grace;
	int64_t throttle_user_free;
	int64_t throttle_addr_free;
	int64_t throttle_base_delay;
	int64_t throttle_max_delay;
	int64_t throttle_window;
	int64_t throttle_max_entries;
	char *log_level;
	char *public_keys_dir; /* earlier keys still published (key_dir.h) */
	char *demo_dir;        /* the teaching page served at /demo; "": off */
	char *demo_resource_origin; /* the page may call it (CSP) */
	char *openapi_dir;          /* auth.json served at /openapi.json */
	char *log_format;           /* json or text, every line */
	bool access_log;            /* one line per request */
	bool metrics;               /* GET /metrics */
	char *metrics_bind;         /* "": /metrics on the main listener */
	int64_t metrics_port;
	/* 0: each access line written at once */
	int64_t access_log_flush_ms;
	char **trusted_proxies; /* whose X-Forwarded-For is believed */
	char *tls_cert;         /* "": plain HTTP */
	char *tls_key;
	struct listener_limits conn; /* descriptors, deadlines, per client */
	bool allow_password_grant;   /* POST /token grant_type=password */
	bool allow_registration;     /* POST /register */
	char **registration_roles;   /* roles of a registered user */
	char *common_passwords;      /* refused passwords, one a line */
};

/* Longest issuer URL (a derived one is far shorter). */
#define AUTH_ISSUER_MAX 512

extern const struct config_field auth_config_fields[];
extern const size_t auth_config_n_fields;

/* Every member at its default (strings are literals until config_load
 * takes copies). */
void auth_config_defaults(struct auth_config *c);

/* The issuer as tokens and metadata name it: the issuer setting, or when
 * that is "" (the default) http://BIND:PORT from the bind address and the
 * port actually listened on (port 0 is only known once listening), so
 * the tokens' iss and the discovery URL follow the daemon when the port
 * moves. An IPv6 literal is bracketed (RFC 3986 3.2.2). -1 if it does not
 * fit. */
int auth_config_issuer(const struct auth_config *c, int64_t port, char *buf,
    size_t len, struct err *e);

/* Checks that span fields (refresh_ttl <= family_ttl, ...). */
int auth_config_check(
    const struct auth_config *c, const char *source, struct err *e);

#endif
