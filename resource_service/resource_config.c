/* resource_config: resource_service's settings table, defaults and
 * checks. */
#include "resource_config.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "claims.h"
#include "cors.h"
#include "forward_auth.h"
#include "http_util.h"
#include "key_source.h"
#include "route_pattern.h"
#include "routes.h"
#include "token_cache.h"

/* One row of the settings table (clang-format mangles the braces). */
/* clang-format off */
#define F(name, type, min, max, help) \
	{ #name, type, offsetof(struct resource_config, name), min, max, help }
/* clang-format on */

const struct config_field resource_config_fields[] = {
	F(bind, CONFIG_STRING, 1, 0, "address to listen on"),
	F(port, CONFIG_INT, 0, 65535, "TCP port, 0 = any free port"),
	F(workers, CONFIG_INT, 0, RESOURCE_MAX_WORKERS,
	    "worker threads, 0 = one per core"),
	F(issuer, CONFIG_STRING, 1, 0, "accepted iss"),
	F(audience, CONFIG_STRING, 1, 0, "accepted aud"),
	F(leeway, CONFIG_INT, 0, CLAIMS_MAX_LEEWAY,
	    "clock skew allowed on exp/nbf/iat, seconds"),
	F(public_keys, CONFIG_STRLIST, 0, 0,
	    "public key PEM files, comma-separated"),
	F(jwks_url, CONFIG_STRING, 0, 0,
	    "issuer JWKS URL, http:// or https://; if set, used instead "
	    "of public_keys"),
	F(jwks_min_age, CONFIG_INT, 1, 86400,
	    "shortest JWKS cache lifetime, seconds"),
	F(jwks_max_age, CONFIG_INT, 1, 604800,
	    "longest JWKS cache lifetime, seconds"),
	F(jwks_refetch_interval, CONFIG_INT, 1, 3600,
	    "unknown kids: at most one JWKS refetch per this, seconds"),
	F(jwks_unknown_kid_ttl, CONFIG_INT, 1, 86400,
	    "a kid a refetch did not bring is refused at once for this long, "
	    "seconds"),
	F(jwks_timeout, CONFIG_INT, 1, 60, "one JWKS fetch, seconds"),
	F(routes, CONFIG_STRING, 1, 0, "protected routes file"),
	F(token_cache_size, CONFIG_INT, 0, TOKEN_CACHE_MAX_ENTRIES,
	    "verified tokens cached per worker, 0 = off"),
	/* Above JWT_MAX_TOKEN_LEN with room for the other headers: every
	 * token the verifier would accept can be sent, and a longer one gets
	 * the RFC 6750 answer rather than libevent's HTML 400. */
	F(max_header_size, CONFIG_INT, 1024, 1048576,
	    "largest request header block, bytes"),
	F(idle_timeout, CONFIG_INT, 1, 3600,
	    "idle connection timeout, seconds"),
	F(max_connections, CONFIG_INT, 0, 10000000,
	    "connections held at once, 0 = the descriptor limit less 64"),
	F(max_client_connections, CONFIG_INT, 0, 10000000,
	    "connections per client address (IPv6: per /64), 0 = no cap"),
	F(header_timeout, CONFIG_INT, 1, 3600,
	    "whole request head, from its first byte, seconds"),
	F(body_timeout, CONFIG_INT, 1, 3600,
	    "whole request body, from the end of the head, seconds"),
	F(access_log, CONFIG_BOOL, 0, 0,
	    "one JSON access-log line per request on stderr"),
	F(access_log_flush_ms, CONFIG_INT, 0, 60000,
	    "an access line waits at most this long in its thread's buffer, "
	    "milliseconds, 0 = each written at once"),
	F(log_level, CONFIG_STRING, 1, 0, "debug, info, warn or error"),
	F(cors_origin, CONFIG_STRING, 0, 0,
	    "the one origin allowed cross-origin calls (the demo page), \"\" = "
	    "none"),
	F(openapi_dir, CONFIG_STRING, 0, 0,
	    "directory of resource.json served at /openapi.json, \"\" = off"),
	F(forward_auth_path, CONFIG_STRING, 0, 0,
	    "path of the forward-auth endpoint for a proxy (nginx "
	    "auth_request), \"\" = off"),
	F(forward_auth_peers, CONFIG_STRLIST, 0, 0,
	    "addresses or CIDR ranges besides loopback that may call the "
	    "forward-auth endpoint, comma-separated"),
	F(log_format, CONFIG_STRING, 1, 0,
	    "json or text: the format of every log line"),
	CONFIG_FIELDS_HTTP_SHARED(struct resource_config),
	F(jwks_ca_file, CONFIG_STRING, 0, 0,
	    "CAs (PEM) trusted for an https jwks_url, \"\" = the system's"),
};

#undef F

const size_t resource_config_n_fields =
    sizeof(resource_config_fields) / sizeof(resource_config_fields[0]);

void
resource_config_defaults(struct resource_config *c)
{
	static char *const default_keys[] = { "keys/public_key.pem", NULL };
	static char *const no_peers[] = { NULL };

	*c = (struct resource_config){
		.bind = (char *)"127.0.0.1",
		.port = 5001,
		.workers = 0,
		.issuer = (char *)"http://127.0.0.1:5000",
		.audience = (char *)"resource_service",
		.leeway = CLAIMS_DEFAULT_LEEWAY,
		.public_keys = (char **)default_keys,
		.jwks_url = (char *)"",
		.jwks_min_age = 60,
		.jwks_max_age = 3600,
		.jwks_refetch_interval = 1,
		.jwks_unknown_kid_ttl = 30,
		.jwks_timeout = 5,
		.routes = (char *)"config/routes.json",
		.token_cache_size = 4096,
		.max_header_size = 16384,
		.idle_timeout = 60,
		.max_connections = 0,
		.max_client_connections = 256,
		.header_timeout = 10,
		.body_timeout = 10,
		.access_log = true,
		.access_log_flush_ms = 100,
		.log_level = (char *)"info",
		.cors_origin = (char *)"http://127.0.0.1:5000",
		.openapi_dir = (char *)RESOURCE_OPENAPI_DIR_DEFAULT,
		.forward_auth_path = (char *)ROUTES_FORWARD_AUTH_PATH,
		.forward_auth_peers = (char **)no_peers,
		.log_format = (char *)"json",
		.metrics = true,
		.metrics_bind = (char *)"",
		.metrics_port = 5091,
		.trusted_proxies = (char **)no_peers,
		.tls_cert = (char *)"",
		.tls_key = (char *)"",
		.jwks_ca_file = (char *)"",
	};
}

enum log_format
resource_config_log_format(const struct resource_config *c)
{
	enum log_format format = LOG_FORMAT_JSON;

	(void)log_format_parse(c->log_format, &format); /* checked at start */
	return format;
}

enum log_level
resource_config_log_level(const struct resource_config *c)
{
	enum log_level level = LOG_INFO;

	(void)log_level_parse(c->log_level, &level); /* checked at start */
	return level;
}

/* An exact path of literal segments, beside /health and /openapi.json. */
static int
check_forward_auth_path(const char *path, const char *source, struct err *e)
{
	struct route_pattern p;
	bool literal;

	if (path[0] == '\0')
		return 0;
	if (route_pattern_compile(path, strlen(path), &p) == -1)
		return err_set(e, ERR_CONFIG,
		    "%s: forward_auth_path: expected an absolute path of "
		    "unencoded characters or \"\", got \"%.60s\"",
		    source, path);
	literal = true;
	for (size_t i = 0; i < p.n_segs; i++)
		literal = literal && p.segs[i].kind == ROUTE_SEG_LITERAL;
	route_pattern_clear(&p);
	if (!literal)
		return err_set(e, ERR_CONFIG,
		    "%s: forward_auth_path: expected an exact path, not a "
		    "pattern",
		    source);
	if (strcmp(path, "/health") == 0 || strcmp(path, "/openapi.json") == 0)
		return err_set(e, ERR_CONFIG,
		    "%s: forward_auth_path: %s is a built-in route", source,
		    path);
	return 0;
}

int
resource_config_check(
    const struct resource_config *c, const char *source, struct err *e)
{
	struct forward_auth_peers *peers = NULL;
	enum log_format format;
	enum log_level level;
	struct err pe = { 0 };

	if (log_level_parse(c->log_level, &level) == -1)
		return err_set(e, ERR_CONFIG,
		    "%s: log_level: expected debug, info, warn or error",
		    source);
	if (log_format_parse(c->log_format, &format) == -1)
		return err_set(e, ERR_CONFIG,
		    "%s: log_format: expected json or text", source);
	if (http_set_trusted_proxies(c->trusted_proxies, &pe) == -1)
		return err_set(e, ERR_CONFIG, "%s: %s", source, pe.msg);
	if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0'))
		return err_set(e, ERR_CONFIG,
		    "%s: tls_cert, tls_key: set both or neither", source);
	if (c->cors_origin[0] != '\0') {
		struct err ce = { 0 };
		if (cors_check_origin(c->cors_origin, &ce) == -1)
			return err_set(e, ERR_CONFIG, "%s: %s", source, ce.msg);
	}
	if (c->jwks_max_age < c->jwks_min_age)
		return err_set(e, ERR_CONFIG,
		    "%s: jwks_max_age: %" PRId64
		    " is below jwks_min_age %" PRId64,
		    source, c->jwks_max_age, c->jwks_min_age);
	if (c->jwks_url != NULL && c->jwks_url[0] != '\0') {
		struct err ue = { 0 };
		if (key_source_check_url(c->jwks_url, &ue) == -1)
			return err_set(e, ERR_CONFIG, "%s: %s", source, ue.msg);
	} else if (c->public_keys == NULL || c->public_keys[0] == NULL) {
		return err_set(e, ERR_CONFIG,
		    "%s: public_keys: expected at least one PEM file (or set "
		    "jwks_url)",
		    source);
	}
	if (check_forward_auth_path(c->forward_auth_path, source, e) == -1 ||
	    resource_config_peers(c, source, &peers, e) == -1)
		return -1;
	forward_auth_peers_free(peers);
	return 0;
}

int
resource_config_peers(const struct resource_config *c, const char *source,
    struct forward_auth_peers **out, struct err *e)
{
	return forward_auth_peers_parse(
	    c->forward_auth_peers, source, "forward_auth_peers", out, e);
}
