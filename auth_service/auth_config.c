/* auth_config: auth_service's settings table and defaults. */
#include "auth_config.h"

#include <netdb.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "http_util.h"
#include "log.h"

#define F(name, type, min, max, help)                                          \
	{                                                                      \
#name, type, offsetof(struct auth_config, name), min, max,     \
		    help                                                       \
	}

/* A connection setting, kept in the struct listener_limits. */
/* clang-format off */
#define FC(name, min, max, help) \
	{ #name, CONFIG_INT, offsetof(struct auth_config, conn.name), min, max, \
	    help }
/* clang-format on */

const struct config_field auth_config_fields[] = {
	F(bind, CONFIG_STRING, 1, 0, "listen address"),
	F(port, CONFIG_INT, 0, 65535, "listen port, 0 = any free"),
	F(issuer, CONFIG_STRING, 0, 0,
	    "iss of access tokens and the OAuth metadata, \"\" = "
	    "http://BIND:PORT as listened"),
	F(audience, CONFIG_STRING, 1, 0, "aud of access tokens"),
	F(client_id, CONFIG_STRING, 1, 0, "client_id claim of access tokens"),
	F(access_ttl, CONFIG_INT, 60, 86400, "access token lifetime, seconds"),
	F(refresh_ttl, CONFIG_INT, 60, 31536000,
	    "refresh token lifetime, seconds"),
	F(family_ttl, CONFIG_INT, 60, 31536000,
	    "absolute lifetime of a login's refresh tokens, seconds"),
	F(private_key, CONFIG_STRING, 1, 0, "signing key, PKCS#8 PEM"),
	F(public_keys, CONFIG_STRLIST, 0, 0,
	    "further public keys (SPKI PEM) published in the JWKS"),
	F(db, CONFIG_STRING, 1, 0,
	    "SQLite database file, or a postgresql:// URL (libpq)"),
	F(db_threads, CONFIG_INT, 0, 64,
	    "database and signing threads, 0 = one per CPU"),
	F(db_queue, CONFIG_INT, 1, 100000,
	    "requests waiting for a database thread before 503"),
	F(refresh_key, CONFIG_STRING, 1, 0,
	    "MAC key of refresh tokens, 32 bytes, made 0600 if missing, "
	    "\"\" = refresh_token.key beside private_key; shared by every "
	    "issuer of one database"),
	F(secrets, CONFIG_STRING, 1, 0, "users to import"),
	F(permissions, CONFIG_STRING, 1, 0, "role permissions"),
	F(argon2_opslimit, CONFIG_INT, 1, 16,
	    "argon2id passes t for new hashes"),
	F(argon2_memlimit_kib, CONFIG_INT, 8, 4194304,
	    "argon2id memory m for new hashes, KiB"),
	F(hash_threads, CONFIG_INT, 0, 64,
	    "password hashing threads, 0 = one per CPU"),
	F(hash_queue, CONFIG_INT, 1, 100000,
	    "logins waiting for a hashing thread before 503"),
	F(hash_nice, CONFIG_INT, 0, 19,
	    "niceness added to hashing threads so the event loop runs first"),
	F(max_body, CONFIG_INT, 64, 1048576, "request body limit, bytes"),
	F(max_headers, CONFIG_INT, 1024, 1048576,
	    "request header limit, bytes"),
	F(request_timeout, CONFIG_INT, 1, 3600,
	    "read/write timeout of a connection, seconds"),
	F(jwks_max_age, CONFIG_INT, 0, 86400,
	    "Cache-Control max-age of the JWKS, seconds"),
	F(db_busy_timeout_ms, CONFIG_INT, 0, 60000,
	    "wait for a database lock, milliseconds"),
	F(shutdown_grace, CONFIG_INT, 0, 300,
	    "on SIGTERM, wait this long for in-flight requests, seconds"),
	F(throttle_user_free, CONFIG_INT, 0, 1000000,
	    "failed logins per username before delays start"),
	F(throttle_addr_free, CONFIG_INT, 0, 1000000,
	    "failed logins per client address before delays start"),
	F(throttle_base_delay, CONFIG_INT, 1, 3600,
	    "first throttle delay, doubled per failure, seconds"),
	F(throttle_max_delay, CONFIG_INT, 1, 3600,
	    "throttle delay cap, seconds"),
	F(throttle_window, CONFIG_INT, 1, 86400,
	    "quiet time that clears a throttled key, seconds"),
	F(throttle_max_entries, CONFIG_INT, 16, 10000000,
	    "throttle table size, entries"),
	F(log_level, CONFIG_STRING, 1, 0, "debug, info, warn or error"),
	F(public_keys_dir, CONFIG_STRING, 0, 0,
	    "directory of earlier keys still published, as jwt-admin keys "
	    "rotate leaves them; reloaded on SIGHUP"),
	F(demo_dir, CONFIG_STRING, 0, 0,
	    "teaching demo page served at /demo, \"\" = off"),
	F(demo_resource_origin, CONFIG_STRING, 0, 0,
	    "resource service origin the demo page calls"),
	F(openapi_dir, CONFIG_STRING, 0, 0,
	    "directory of auth.json served at /openapi.json, \"\" = off"),
	F(log_format, CONFIG_STRING, 1, 0,
	    "json or text: the format of every log line"),
	F(access_log, CONFIG_BOOL, 0, 0, "one log line per request"),
	F(access_log_flush_ms, CONFIG_INT, 0, 60000,
	    "an access line waits at most this long in its thread's buffer, "
	    "milliseconds, 0 = each written at once"),
	CONFIG_FIELDS_HTTP_SHARED(struct auth_config),
	FC(max_connections, 0, 10000000,
	    "connections held at once, 0 = the descriptor limit less 64"),
	FC(max_client_connections, 0, 10000000,
	    "connections per client address (IPv6: per /64), 0 = no cap"),
	FC(header_timeout, 1, 3600,
	    "whole request head, from its first byte, seconds"),
	FC(body_timeout, 1, 3600,
	    "whole request body, from the end of the head, seconds"),
	FC(idle_timeout, 1, 3600,
	    "keep-alive wait for the next request (request_timeout bounds "
	    "it too), seconds"),
	F(allow_password_grant, CONFIG_BOOL, 0, 0,
	    "POST /token accepts grant_type=password"),
	F(allow_registration, CONFIG_BOOL, 0, 0,
	    "POST /register creates users"),
	F(registration_roles, CONFIG_STRLIST, 0, 0,
	    "roles given to a registered user"),
	F(common_passwords, CONFIG_STRING, 0, 0,
	    "common passwords refused for new passwords, one a line, "
	    "\"\" = none"),
};

const size_t auth_config_n_fields =
    sizeof(auth_config_fields) / sizeof(auth_config_fields[0]);

void
auth_config_defaults(struct auth_config *c)
{
	static char *const no_keys[] = { NULL };
	static char *const user_role[] = { (char *)"user", NULL };

	*c = (struct auth_config){
		.bind = (char *)"127.0.0.1",
		.port = 5000,
		.issuer = (char *)"",
		.audience = (char *)"resource_service",
		.client_id = (char *)"demo-client",
		.access_ttl = 900,
		.refresh_ttl = 604800,
		.family_ttl = 2592000,
		.private_key = (char *)"keys/private_key.pem",
		.public_keys = (char **)no_keys,
		.db = (char *)"data/auth.db",
		.db_threads = 0,
		.db_queue = 1024,
		.refresh_key = (char *)"",
		.secrets = (char *)"config/secrets.json",
		.permissions = (char *)"config/permissions.json",
		.argon2_opslimit = 2,
		.argon2_memlimit_kib = 19456,
		.hash_threads = 0,
		.hash_queue = 64,
		.hash_nice = 10,
		.max_body = 8192,
		.max_headers = 8192,
		.request_timeout = 10,
		.jwks_max_age = 300,
		.db_busy_timeout_ms = 5000,
		.shutdown_grace = 10,
		.throttle_user_free = 5,
		.throttle_addr_free = 20,
		.throttle_base_delay = 1,
		.throttle_max_delay = 60,
		.throttle_window = 900,
		.throttle_max_entries = 10000,
		.log_level = (char *)"info",
		.public_keys_dir = (char *)"",
		.demo_dir = (char *)AUTH_DEMO_DIR_DEFAULT,
		.demo_resource_origin = (char *)"http://127.0.0.1:5001",
		.openapi_dir = (char *)AUTH_OPENAPI_DIR_DEFAULT,
		.log_format = (char *)"json",
		.access_log = true,
		.access_log_flush_ms = 100,
		.metrics = true,
		.metrics_bind = (char *)"",
		.metrics_port = 5090,
		.trusted_proxies = (char **)no_keys,
		.tls_cert = (char *)"",
		.tls_key = (char *)"",
		.conn = { .max_connections = 0,
		    .max_client_connections = 256,
		    .header_timeout = 10,
		    .body_timeout = 10,
		    .idle_timeout = 10 },
		.allow_password_grant = true,
		.allow_registration = false,
		.registration_roles = (char **)user_role,
		.common_passwords = (char *)AUTH_COMMON_PASSWORDS_DEFAULT,
	};
}

int
auth_config_issuer(const struct auth_config *c, int64_t port, char *buf,
    size_t len, struct err *e)
{
	/* With tls_cert the listener speaks HTTPS, and so do its URLs. */
	const char *scheme = c->tls_cert[0] != '\0' ? "https" : "http";
	int n;

	if (c->issuer[0] != '\0')
		n = snprintf(buf, len, "%s", c->issuer);
	else if (strchr(c->bind, ':') != NULL)
		n = snprintf(buf, len, "%s://[%s]:%lld", scheme, c->bind,
		    (long long)port);
	else
		n = snprintf(
		    buf, len, "%s://%s:%lld", scheme, c->bind, (long long)port);
	if (n < 0 || (size_t)n >= len)
		return err_set(
		    e, ERR_CONFIG, "issuer: longer than %zu bytes", len - 1);
	return 0;
}

/* The listen address must name a local address evhttp can bind; caught
 * here it is a config error (status 2, --check-config sees it), not a
 * failure to listen after start-up. */
static int
check_bind(const char *bind, const char *source, struct err *e)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	int rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(bind, "0", &hints, &res)) != 0)
		return err_set(e, ERR_CONFIG,
		    "%s: bind: expected an IP address or host name, got "
		    "\"%.40s\" (%s)",
		    source, bind, gai_strerror(rc));
	freeaddrinfo(res);
	return 0;
}

int
auth_config_check(
    const struct auth_config *c, const char *source, struct err *e)
{
	enum log_format format;
	enum log_level level;
	struct err pe = { 0 };

	if (check_bind(c->bind, source, e) == -1)
		return -1;
	/* RFC 8414 2: an https (here also http) URL without query or
	 * fragment; tokens' iss and the metadata URL come from it. */
	if (c->issuer[0] != '\0' &&
	    ((strncmp(c->issuer, "http://", 7) != 0 &&
	         strncmp(c->issuer, "https://", 8) != 0) ||
	        strpbrk(c->issuer, "?# ") != NULL ||
	        strlen(c->issuer) >= AUTH_ISSUER_MAX))
		return err_set(e, ERR_CONFIG,
		    "%s: issuer: expected an http(s) URL without query or "
		    "fragment, or \"\"",
		    source);
	if (c->refresh_ttl > c->family_ttl)
		return err_set(e, ERR_CONFIG,
		    "%s: refresh_ttl: must not exceed family_ttl (%lld)",
		    source, (long long)c->family_ttl);
	if (c->throttle_base_delay > c->throttle_max_delay)
		return err_set(e, ERR_CONFIG,
		    "%s: throttle_base_delay: must not exceed "
		    "throttle_max_delay (%lld)",
		    source, (long long)c->throttle_max_delay);
	if (log_level_parse(c->log_level, &level) == -1)
		return err_set(e, ERR_CONFIG,
		    "%s: log_level: expected debug, info, warn or error",
		    source);
	if (log_format_parse(c->log_format, &format) == -1)
		return err_set(e, ERR_CONFIG,
		    "%s: log_format: expected json or text", source);
	if (c->metrics_bind[0] != '\0' &&
	    check_bind(c->metrics_bind, source, e) == -1)
		return -1;
	if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0'))
		return err_set(e, ERR_CONFIG,
		    "%s: tls_cert, tls_key: set both or neither", source);
	if (http_set_trusted_proxies(c->trusted_proxies, &pe) == -1)
		return err_set(e, ERR_CONFIG, "%s: %s", source, pe.msg);
	return 0;
}
