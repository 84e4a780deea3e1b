/* route_config: loads and checks config/routes.json, and finds the rule
 * for a request. A bad file never replaces a good table: the caller keeps
 * the old one until a new one parses completely. */
#include "route_config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json_util.h"

static const struct {
	enum evhttp_cmd_type method;
	const char *name;
} route_config_methods[] = {
	{ EVHTTP_REQ_GET, "GET" },
	{ EVHTTP_REQ_POST, "POST" },
	{ EVHTTP_REQ_PUT, "PUT" },
	{ EVHTTP_REQ_PATCH, "PATCH" },
	{ EVHTTP_REQ_DELETE, "DELETE" },
	{ EVHTTP_REQ_OPTIONS, "OPTIONS" },
	{ EVHTTP_REQ_HEAD, "HEAD" },
	{ EVHTTP_REQ_TRACE, "TRACE" },
	{ EVHTTP_REQ_CONNECT, "CONNECT" },
};

/* The rows after the first ROUTE_CONFIG_RULE_METHODS are for naming (the
 * access log) only: a rule may not use them. HEAD follows the GET rule
 * (RFC 9110 9.3.2); TRACE and CONNECT are never routed (RFC 9110 9.3.8,
 * 9.3.6). */
#define ROUTE_CONFIG_RULE_METHODS 6

const char *
route_config_method_name(enum evhttp_cmd_type method)
{
	for (size_t i = 0;
	     i < sizeof(route_config_methods) / sizeof(*route_config_methods);
	     i++)
		if (route_config_methods[i].method == method)
			return route_config_methods[i].name;
	return "OTHER";
}

int
route_config_method_parse(
    const char *name, size_t len, enum evhttp_cmd_type *out)
{
	for (size_t i = 0;
	     i < sizeof(route_config_methods) / sizeof(*route_config_methods);
	     i++) {
		if (strlen(route_config_methods[i].name) == len &&
		    memcmp(route_config_methods[i].name, name, len) == 0) {
			*out = route_config_methods[i].method;
			return 0;
		}
	}
	return -1;
}

static void
need_clear(struct guard_need *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->perms[i]);
	free(n->perms);
	free(n->lens);
	*n = (struct guard_need){ 0 };
}

static void
rules_free(struct route_rule *rules, size_t n)
{
	if (rules == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		route_pattern_clear(&rules[i].pattern);
		need_clear(&rules[i].need);
		free(rules[i].permission);
	}
	free(rules);
}

struct route_config *
route_config_retain(struct route_config *c)
{
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	return c;
}

void
route_config_free(struct route_config *c)
{
	if (c == NULL ||
	    atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
		return;
	rules_free(c->rules, c->n_rules);
	free(c->table);
	free(c);
}

/* Methods are case-sensitive (RFC 9110 9.1): "get" is not GET. */
static int
parse_method(struct json_object *v, enum evhttp_cmd_type *out)
{
	if (!json_object_is_type(v, json_type_string) ||
	    route_config_method_parse(json_object_get_string(v),
	        (size_t)json_object_get_string_len(v), out) == -1)
		return -1;
	for (size_t i = 0; i < ROUTE_CONFIG_RULE_METHODS; i++)
		if (route_config_methods[i].method == *out)
			return 0;
	return -1;
}

/* scope-token = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E
 * (RFC 6749 3.3): it is sent inside scope="..." (RFC 6750 3), so no quote
 * or backslash can break out of the challenge. */
static bool
is_scope_token(const char *s, size_t len)
{
	if (len == 0 || len > ROUTE_CONFIG_MAX_PERMISSION)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
			return false;
	}
	return true;
}

static const char *const rule_needs[] = { "permission", "all_of", "any_of",
	"public" };

#define RULE_N_NEEDS (sizeof(rule_needs) / sizeof(*rule_needs))

/* Appends one scope token to the need and to the space-separated list. */
static int
add_permission(struct route_rule *r, struct json_object *v, size_t idx,
    const char *label, const char *field, struct err *e)
{
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v), at;
	char *grown;

	if (!json_object_is_type(v, json_type_string) ||
	    !is_scope_token(s, len))
		return err_set(e, ERR_CONFIG,
		    "%s: [%zu].%s: expected a scope token (RFC 6749 3.3) of "
		    "at most %d characters",
		    label, idx, field, ROUTE_CONFIG_MAX_PERMISSION);
	for (size_t i = 0; i < r->need.n; i++)
		if (r->need.lens[i] == len &&
		    memcmp(r->need.perms[i], s, len) == 0)
			return err_set(e, ERR_CONFIG,
			    "%s: [%zu].%s: %.64s is listed twice", label, idx,
			    field, s);
	at = r->permission_len + (r->need.n > 0);
	if (at + len > ROUTE_CONFIG_MAX_REQUIRED)
		return err_set(e, ERR_CONFIG,
		    "%s: [%zu].%s: more than %d characters of permissions",
		    label, idx, field, ROUTE_CONFIG_MAX_REQUIRED);
	if ((grown = realloc(r->permission, at + len + 1)) == NULL)
		return err_set(e, ERR_NOMEM, "%s", label);
	r->permission = grown;
	if (r->need.n > 0)
		grown[at - 1] = ' ';
	memcpy(grown + at, s, len);
	grown[at + len] = '\0';
	r->permission_len = at + len;
	if ((r->need.perms[r->need.n] = strndup(s, len)) == NULL)
		return err_set(e, ERR_NOMEM, "%s", label);
	r->need.lens[r->need.n++] = len;
	return 0;
}

/* The one requirement member: "permission": "p" (all of one),
 * "all_of"/"any_of": ["p", ...], or "public": true. */
static int
parse_need(struct json_object *item, size_t idx, const char *label,
    struct route_rule *r, struct err *e)
{
	struct json_object *v = NULL, *found;
	size_t which = RULE_N_NEEDS, n = 1;

	for (size_t i = 0; i < RULE_N_NEEDS; i++) {
		if (!json_object_object_get_ex(item, rule_needs[i], &found))
			continue;
		if (which != RULE_N_NEEDS)
			return err_set(e, ERR_CONFIG,
			    "%s: [%zu].%s: not together with %s (one of "
			    "permission, all_of, any_of, public)",
			    label, idx, rule_needs[i], rule_needs[which]);
		which = i;
		v = found;
	}
	if (which == RULE_N_NEEDS)
		return err_set(e, ERR_CONFIG,
		    "%s: [%zu].permission: expected a string (or all_of, "
		    "any_of, public)",
		    label, idx);
	if (which == 3) {
		if (!json_object_is_type(v, json_type_boolean) ||
		    !json_object_get_boolean(v))
			return err_set(e, ERR_CONFIG,
			    "%s: [%zu].public: expected true", label, idx);
		r->need.mode = GUARD_PUBLIC;
		return 0;
	}
	if (which == 0 && !json_object_is_type(v, json_type_string))
		return err_set(e, ERR_CONFIG,
		    "%s: [%zu].permission: expected a string", label, idx);
	if (which > 0) {
		if (!json_object_is_type(v, json_type_array) ||
		    (n = json_object_array_length(v)) == 0 ||
		    n > ROUTE_CONFIG_MAX_PERMISSIONS)
			return err_set(e, ERR_CONFIG,
			    "%s: [%zu].%s: expected a list of 1 to %d "
			    "permissions",
			    label, idx, rule_needs[which],
			    ROUTE_CONFIG_MAX_PERMISSIONS);
		r->need.mode = which == 1 ? GUARD_ALL_OF : GUARD_ANY_OF;
	}
	if ((r->need.perms = calloc(n, sizeof(*r->need.perms))) == NULL ||
	    (r->need.lens = calloc(n, sizeof(*r->need.lens))) == NULL)
		return err_set(e, ERR_NOMEM, "%s", label);
	for (size_t i = 0; i < n; i++)
		if (add_permission(r,
		        which == 0 ? v : json_object_array_get_idx(v, i), idx,
		        label, rule_needs[which], e) == -1)
			return -1;
	return 0;
}

static int
parse_rule(struct json_object *item, size_t idx, const char *label,
    struct route_rule *r, struct err *e)
{
	struct json_object *v;

	if (!json_object_is_type(item, json_type_object))
		return err_set(e, ERR_CONFIG,
		    "%s: [%zu]: expected an object {method, path, permission}",
		    label, idx);
	json_object_object_foreach(item, key, val)
	{
		bool known =
		    strcmp(key, "method") == 0 || strcmp(key, "path") == 0;

		(void)val;
		for (size_t i = 0; i < RULE_N_NEEDS; i++)
			known = known || strcmp(key, rule_needs[i]) == 0;
		if (!known)
			return err_set(e, ERR_CONFIG,
			    "%s: [%zu].%.40s: unknown field", label, idx, key);
	}
	if (!json_object_object_get_ex(item, "method", &v) ||
	    parse_method(v, &r->method) == -1)
		return err_set(e, ERR_CONFIG,
		    "%s: [%zu].method: expected one of GET POST PUT PATCH "
		    "DELETE OPTIONS",
		    label, idx);
	if (!json_object_object_get_ex(item, "path", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) > ROUTE_CONFIG_MAX_PATH ||
	    route_pattern_compile(json_object_get_string(v),
	        (size_t)json_object_get_string_len(v), &r->pattern) == -1)
		return err_set(e, ERR_CONFIG,
		    "%s: [%zu].path: expected /a/{name}/b or /a/* of at most "
		    "%d unencoded characters",
		    label, idx, ROUTE_CONFIG_MAX_PATH);
	r->path = r->pattern.text;
	return parse_need(item, idx, label, r, e);
}

/* A rule may not shadow a built-in route, nor have the same pattern as
 * another rule of its method: neither would be more specific, so one of
 * them would be silently unreachable. */
static int
check_unique(const struct route_rule *rules, size_t idx,
    const struct route *builtin, size_t n_builtin, const char *label,
    struct err *e)
{
	for (size_t i = 0; i < n_builtin; i++)
		if (strcmp(builtin[i].path, rules[idx].path) == 0)
			return err_set(e, ERR_CONFIG,
			    "%s: [%zu].path: %s is a built-in route", label,
			    idx, builtin[i].path);
	for (size_t i = 0; i < idx; i++)
		if (rules[i].method == rules[idx].method &&
		    route_pattern_same(&rules[i].pattern, &rules[idx].pattern))
			return err_set(e, ERR_CONFIG,
			    "%s: [%zu].path: %s %.80s is already routed by "
			    "[%zu] (%.80s)",
			    label, idx,
			    route_config_method_name(rules[i].method),
			    rules[idx].path, i, rules[i].path);
	return 0;
}

int
route_config_parse(const char *text, size_t len, const char *label,
    const struct route *builtin, size_t n_builtin, struct route_config **out,
    struct err *e)
{
	struct json_object *root = NULL;
	struct route_config *c = NULL;
	struct err pe = { 0 };
	size_t n;
	int rc = -1;

	if (json_parse_strict(text, len, JSON_DEFAULT_MAX_DEPTH, ERR_CONFIG,
	        &root, &pe) == -1) {
		err_set(e, ERR_CONFIG, "%s: invalid JSON: %s", label, pe.msg);
		goto out;
	}
	if (!json_object_is_type(root, json_type_array)) {
		err_set(e, ERR_CONFIG,
		    "%s: expected a JSON list of {method, path, permission}",
		    label);
		goto out;
	}
	n = json_object_array_length(root);
	if (n > ROUTE_CONFIG_MAX_RULES) {
		err_set(e, ERR_CONFIG, "%s: more than %d routes", label,
		    ROUTE_CONFIG_MAX_RULES);
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_NOMEM, "%s", label);
		goto out;
	}
	atomic_init(&c->refs, 1);
	if ((c->rules = calloc(n + 1, sizeof(*c->rules))) == NULL ||
	    (c->table = calloc(n_builtin + 1, sizeof(*c->table))) == NULL) {
		err_set(e, ERR_NOMEM, "%s", label);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		c->n_rules = i + 1; /* so rules_free sees partial rules */
		if (parse_rule(json_object_array_get_idx(root, i), i, label,
		        &c->rules[i], e) == -1 ||
		    check_unique(c->rules, i, builtin, n_builtin, label, e) ==
		        -1)
			goto out;
	}
	c->n_rules = n;
	for (size_t i = 0; i < n_builtin; i++)
		c->table[i] = builtin[i];
	c->n_table = n_builtin;
	*out = c;
	c = NULL;
	rc = 0;
out:
	route_config_free(c);
	json_object_put(root);
	return rc;
}

int
route_config_load(const char *path, const struct route *builtin,
    size_t n_builtin, struct route_config **out, struct err *e)
{
	char *text = NULL;
	size_t len = 0;
	struct err re = { 0 };
	int rc;

	/* Unread, the file is named by the setting that points at it. */
	if (config_read_file(path, ROUTE_CONFIG_MAX_FILE, &text, &len, &re) ==
	    -1)
		return err_set(e, re.code, "routes: %s", re.msg);
	rc = route_config_parse(text, len, path, builtin, n_builtin, out, e);
	free(text);
	return rc;
}

const struct route_rule *
route_config_match(const struct route_config *c, enum evhttp_cmd_type method,
    const char *path, unsigned *methods)
{
	const struct route_rule *best = NULL;
	unsigned seen = 0;

	if (method == EVHTTP_REQ_HEAD)
		method = EVHTTP_REQ_GET; /* RFC 9110 9.3.2 */
	if (route_path_is_canonical(path)) {
		for (size_t i = 0; i < c->n_rules; i++) {
			const struct route_rule *r = &c->rules[i];

			if (!route_pattern_match(&r->pattern, path))
				continue;
			seen |= (unsigned)r->method;
			if (r->method == method &&
			    (best == NULL || route_pattern_compare(&r->pattern,
			                         &best->pattern) > 0))
				best = r;
		}
	}
	if (methods != NULL)
		*methods = seen;
	return best;
}

const struct route_rule *
route_config_find(
    const struct route_config *c, enum evhttp_cmd_type method, const char *path)
{
	return route_config_match(c, method, path, NULL);
}
