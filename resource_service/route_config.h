/* route_config: the protected routes of config/routes.json, a JSON list of
 * {"method","path","permission"}, turned into a dispatch table for
 * http_dispatch(). Reference counted so a SIGHUP reload can replace the
 * table while workers still finish requests on the old one. */
#ifndef RESOURCE_ROUTE_CONFIG_H
#define RESOURCE_ROUTE_CONFIG_H

#include <event2/http.h>
#include <stdatomic.h>
#include <stddef.h>

#include "err.h"
#include "http_util.h"

#define ROUTE_CONFIG_MAX_RULES 256
#define ROUTE_CONFIG_MAX_PATH 256
#define ROUTE_CONFIG_MAX_PERMISSION 128
#define ROUTE_CONFIG_MAX_FILE ((size_t)256 * 1024)

struct route_rule {
	enum evhttp_cmd_type method;
	char *path;
	char *permission; /* an RFC 6749 3.3 scope token */
	size_t permission_len;
};

struct route_config {
	struct route_rule *rules;
	size_t n_rules;
	struct route *table; /* the built-in routes, then one per rule */
	size_t n_table;
	atomic_int refs;
};

/* Parses text (strict JSON) into a table: built-in public routes first,
 * then every rule dispatched to guarded. label names the source in errors:
 * "config/routes.json: [1].permission: expected ...". A rule on a built-in
 * path, a repeated method and path, an unknown member, a method other than
 * GET POST PUT PATCH DELETE OPTIONS, a path that is not a plain absolute
 * path, or a permission that is not a scope token is ERR_CONFIG. */
int route_config_parse(const char *text, size_t len, const char *label,
    const struct route *builtin, size_t n_builtin, http_handler guarded,
    struct route_config **out, struct err *e);

/* Reads path (at most ROUTE_CONFIG_MAX_FILE bytes) and parses it. */
int route_config_load(const char *path, const struct route *builtin,
    size_t n_builtin, http_handler guarded, struct route_config **out,
    struct err *e);

/* The rule for a method and a raw path; HEAD finds the GET rule, as
 * http_dispatch serves HEAD with the GET handler. NULL if none. */
const struct route_rule *route_config_find(const struct route_config *c,
    enum evhttp_cmd_type method, const char *path);

/* "GET", "DELETE", ...; "OTHER" for a method without a name here. */
const char *route_config_method_name(enum evhttp_cmd_type method);

struct route_config *route_config_retain(struct route_config *c);
/* Drops one reference; frees at zero. NULL does nothing. */
void route_config_free(struct route_config *c);

#endif
