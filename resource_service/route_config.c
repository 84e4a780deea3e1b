/* route_config: loads and checks config/routes.json, builds the dispatch
 * table. A bad file never replaces a good table: the caller keeps the old
 * one until a new one parses completely. */
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

static void
rules_free(struct route_rule *rules, size_t n)
{
	if (rules == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(rules[i].path);
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
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	for (size_t i = 0; i < ROUTE_CONFIG_RULE_METHODS; i++) {
		if (strlen(route_config_methods[i].name) ==
		        (size_t)json_object_get_string_len(v) &&
		    strcmp(route_config_methods[i].name, s) == 0) {
			*out = route_config_methods[i].method;
			return 0;
		}
	}
	return -1;
}

/* pchar without pct-encoded (RFC 3986 3.3). Requests are matched on the
 * raw path, never decoded, so a '%' here could only ever match one
 * spelling of the path: it is refused to avoid a false sense of coverage. */
static bool
is_path_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=:@/", c);
}

static bool
is_plain_path(const char *s, size_t len)
{
	if (len == 0 || len > ROUTE_CONFIG_MAX_PATH || s[0] != '/')
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0' || !is_path_char((unsigned char)s[i]))
			return false;
	/* No "." or ".." segment: clients may not normalise them away the
	 * way an operator would expect. */
	for (size_t i = 0; i < len; i++) {
		size_t seg;
		if (s[i] != '/')
			continue;
		seg = strcspn(s + i + 1, "/");
		if ((seg == 1 && s[i + 1] == '.') ||
		    (seg == 2 && s[i + 1] == '.' && s[i + 2] == '.'))
			return false;
	}
	return true;
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

static int
parse_rule(struct json_object *item, size_t idx, const char *label,
    struct route_rule *r, struct err *e)
{
	struct json_object *v;
	const char *s;
	size_t len;

	if (!json_object_is_type(item, json_type_object))
		return err_set(e, ERR_CONFIG,
		    "%s: [%zu]: expected an object {method, path, permission}",
		    label, idx);
	json_object_object_foreach(item, key, val)
	{
		(void)val;
		if (strcmp(key, "method") != 0 && strcmp(key, "path") != 0 &&
		    strcmp(key, "permission") != 0)
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
	    !is_plain_path(json_object_get_string(v),
	        (size_t)json_object_get_string_len(v)))
		return err_set(e, ERR_CONFIG,
		    "%s: [%zu].path: expected an absolute path of at most %d "
		    "unencoded characters",
		    label, idx, ROUTE_CONFIG_MAX_PATH);
	if ((r->path = strdup(json_object_get_string(v))) == NULL)
		return err_set(e, ERR_NOMEM, "%s", label);
	if (!json_object_object_get_ex(item, "permission", &v) ||
	    !json_object_is_type(v, json_type_string))
		return err_set(e, ERR_CONFIG,
		    "%s: [%zu].permission: expected a string", label, idx);
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (!is_scope_token(s, len))
		return err_set(e, ERR_CONFIG,
		    "%s: [%zu].permission: expected a scope token (RFC 6749 "
		    "3.3) of at most %d characters",
		    label, idx, ROUTE_CONFIG_MAX_PERMISSION);
	if ((r->permission = strndup(s, len)) == NULL)
		return err_set(e, ERR_NOMEM, "%s", label);
	r->permission_len = len;
	return 0;
}

/* A rule may not shadow a built-in route nor repeat another rule: either
 * would make one of them silently unreachable. */
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
		    strcmp(rules[i].path, rules[idx].path) == 0)
			return err_set(e, ERR_CONFIG,
			    "%s: [%zu]: %s %s is already routed by [%zu]",
			    label, idx,
			    route_config_method_name(rules[i].method),
			    rules[i].path, i);
	return 0;
}

int
route_config_parse(const char *text, size_t len, const char *label,
    const struct route *builtin, size_t n_builtin, http_handler guarded,
    struct route_config **out, struct err *e)
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
	    (c->table = calloc(n + n_builtin + 1, sizeof(*c->table))) == NULL) {
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
	for (size_t i = 0; i < n; i++)
		c->table[n_builtin + i] = (struct route){ c->rules[i].method,
			c->rules[i].path, guarded };
	c->n_table = n_builtin + n;
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
    size_t n_builtin, http_handler guarded, struct route_config **out,
    struct err *e)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (config_read_file(path, ROUTE_CONFIG_MAX_FILE, &text, &len, e) == -1)
		return -1;
	rc = route_config_parse(
	    text, len, path, builtin, n_builtin, guarded, out, e);
	free(text);
	return rc;
}

const struct route_rule *
route_config_find(
    const struct route_config *c, enum evhttp_cmd_type method, const char *path)
{
	if (method == EVHTTP_REQ_HEAD)
		method = EVHTTP_REQ_GET;
	for (size_t i = 0; i < c->n_rules; i++)
		if (c->rules[i].method == method &&
		    strcmp(c->rules[i].path, path) == 0)
			return &c->rules[i];
	return NULL;
}
