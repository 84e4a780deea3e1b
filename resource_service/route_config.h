/* route_config: the rules of config/routes.json, a JSON list of
 * {"method", "path", and one of "permission", "all_of", "any_of",
 * "public"}, and the one lookup both the direct routes and the
 * forward-auth endpoint decide with. Paths are route_pattern.h patterns;
 * for a request, the most specific rule of its method wins. Reference
 * counted so a SIGHUP reload can replace the table while workers still
 * finish requests on the old one. */
#ifndef RESOURCE_ROUTE_CONFIG_H
#define RESOURCE_ROUTE_CONFIG_H

#include <event2/http.h>
#include <stdatomic.h>
#include <stddef.h>

#include "err.h"
#include "guard.h"
#include "http_util.h"
#include "route_pattern.h"

#define ROUTE_CONFIG_MAX_RULES 256
#define ROUTE_CONFIG_MAX_PATH 256
#define ROUTE_CONFIG_MAX_PERMISSION 128
#define ROUTE_CONFIG_MAX_PERMISSIONS 16 /* in one all_of or any_of */
/* The permissions of one rule, space-separated, as the 403 challenge's
 * scope="..." carries them. */
#define ROUTE_CONFIG_MAX_REQUIRED 256
#define ROUTE_CONFIG_MAX_FILE ((size_t)256 * 1024)

struct route_rule {
	enum evhttp_cmd_type method;
	const char *path; /* the pattern as written (pattern.text) */
	struct route_pattern pattern;
	struct guard_need need;
	/* The need's permissions space-separated (RFC 6750 3 scope), for
	 * the 403 answer; NULL for a public rule. */
	char *permission;
	size_t permission_len;
};

struct route_config {
	struct route_rule *rules;
	size_t n_rules;
	struct route *table; /* the built-in routes, matched exactly */
	size_t n_table;
	atomic_int refs;
};

/* Parses text (strict JSON) into rules beside a copy of the built-in
 * routes (whose paths must outlive the table). label names the source in
 * errors: "config/routes.json: [1].permission: expected ...". A rule on a
 * built-in path, two rules of one method with the same pattern (neither
 * would be more specific), an unknown member, not exactly one of
 * permission/all_of/any_of/public, a method other than GET POST PUT PATCH
 * DELETE OPTIONS, a path that is not a pattern, or a permission that is
 * not a scope token is ERR_CONFIG. */
int route_config_parse(const char *text, size_t len, const char *label,
    const struct route *builtin, size_t n_builtin, struct route_config **out,
    struct err *e);

/* Reads path (at most ROUTE_CONFIG_MAX_FILE bytes) and parses it. */
int route_config_load(const char *path, const struct route *builtin,
    size_t n_builtin, struct route_config **out, struct err *e);

/* The most specific rule for a method and a raw request path (HEAD finds
 * the GET rule), or NULL: no rule of that method matches, or the path is
 * not canonical (route_path_is_canonical). methods (may be NULL) gets the
 * methods of every rule whose pattern matches, as evhttp_cmd_type bits,
 * for a 405's Allow. */
const struct route_rule *route_config_match(const struct route_config *c,
    enum evhttp_cmd_type method, const char *path, unsigned *methods);

/* route_config_match without the methods. */
const struct route_rule *route_config_find(const struct route_config *c,
    enum evhttp_cmd_type method, const char *path);

/* "GET", "DELETE", ...; "OTHER" for a method without a name here. */
const char *route_config_method_name(enum evhttp_cmd_type method);

/* The method a name spells, case-sensitively (RFC 9110 9.1), among those
 * the server routes (HEAD and TRACE included); -1 if none. */
int route_config_method_parse(
    const char *name, size_t len, enum evhttp_cmd_type *out);

struct route_config *route_config_retain(struct route_config *c);
/* Drops one reference; frees at zero. NULL does nothing. */
void route_config_free(struct route_config *c);

#endif
