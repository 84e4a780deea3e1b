/* test_route_config: routes.json parsing, its refusals (each next to a
 * positive control), raw-path matching, patterns and their precedence,
 * permission lists, public rules, conflicts and reference counting. */
#include <string.h>

#include "route_config.h"
#include "test.h"

static void
handler_health(struct evhttp_request *req, void *arg)
{
	(void)req;
	(void)arg;
}

static const struct route builtin[] = {
	{ EVHTTP_REQ_GET, "/health", handler_health },
};

static int
parse(const char *text, struct route_config **out, struct err *e)
{
	*e = (struct err){ 0 };
	*out = NULL;
	return route_config_parse(
	    text, strlen(text), "routes.json", builtin, 1, out, e);
}

/* Parses text and expects refusal with ERR_CONFIG and msg containing
 * want. */
static int
refused(const char *text, const char *want)
{
	struct route_config *c = NULL;
	struct err e;
	int ok;

	ok = parse(text, &c, &e) == -1 && c == NULL && e.code == ERR_CONFIG &&
	     strstr(e.msg, want) != NULL;
	if (!ok)
		fprintf(stderr, "  for %s: got \"%s\"\n", text, e.msg);
	route_config_free(c);
	return ok;
}

static int
accepted(const char *text)
{
	struct route_config *c = NULL;
	struct err e;
	int ok = parse(text, &c, &e) == 0 && c != NULL;

	if (!ok)
		fprintf(stderr, "  for %s: got \"%s\"\n", text, e.msg);
	route_config_free(c);
	return ok;
}

static void
test_demo_file(void)
{
	struct route_config *c = NULL;
	const struct route_rule *r;
	struct err e = { 0 };
	char path[512];

	CHECK(route_config_load(
	          test_source_path("config/routes.json", path, sizeof(path)),
	          builtin, 1, &c, &e) == 0);
	if (c == NULL)
		return;
	CHECK(c->n_rules == 3);
	/* The built-in routes are kept, with their handler. */
	CHECK(c->n_table == 1);
	CHECK(strcmp(c->table[0].path, "/health") == 0);
	CHECK(c->table[0].handler == handler_health);
	r = route_config_find(c, EVHTTP_REQ_GET, "/protected");
	CHECK(r != NULL && strcmp(r->permission, "read:data") == 0 &&
	      r->permission_len == 9);
	/* The seed's single permission is an all_of of one. */
	CHECK(r != NULL && r->need.mode == GUARD_ALL_OF && r->need.n == 1 &&
	      r->need.lens[0] == 9 &&
	      strcmp(r->need.perms[0], "read:data") == 0);
	r = route_config_find(c, EVHTTP_REQ_GET, "/admin");
	CHECK(r != NULL && strcmp(r->permission, "read:admin_panel") == 0);
	r = route_config_find(c, EVHTTP_REQ_DELETE, "/admin/users");
	CHECK(r != NULL && strcmp(r->permission, "delete:users") == 0);
	route_config_free(c);
}

static void
test_missing_file(void)
{
	struct route_config *c = NULL;
	struct err e = { 0 };

	CHECK(route_config_load(
	          "/nonexistent/routes.json", builtin, 1, &c, &e) == -1);
	CHECK(c == NULL);
	CHECK(strstr(e.msg, "/nonexistent/routes.json") != NULL);
}

/* The path is matched exactly as received: no decoding, no trailing-slash
 * or case folding, so /%61dmin never reaches /admin's rule. */
static void
test_exact_match(void)
{
	struct route_config *c = NULL;
	struct err e;

	CHECK(parse("[{\"method\":\"GET\",\"path\":\"/admin\","
	            "\"permission\":\"read:admin_panel\"}]",
	          &c, &e) == 0);
	if (c == NULL)
		return;
	CHECK(route_config_find(c, EVHTTP_REQ_GET, "/admin") != NULL);
	CHECK(route_config_find(c, EVHTTP_REQ_GET, "/%61dmin") == NULL);
	CHECK(route_config_find(c, EVHTTP_REQ_GET, "/admin/") == NULL);
	CHECK(route_config_find(c, EVHTTP_REQ_GET, "/Admin") == NULL);
	CHECK(route_config_find(c, EVHTTP_REQ_GET, "/admi") == NULL);
	CHECK(route_config_find(c, EVHTTP_REQ_GET, "//admin") == NULL);
	/* HEAD follows the GET rule; other methods do not. */
	CHECK(route_config_find(c, EVHTTP_REQ_HEAD, "/admin") != NULL);
	CHECK(route_config_find(c, EVHTTP_REQ_POST, "/admin") == NULL);
	CHECK(route_config_find(c, EVHTTP_REQ_DELETE, "/admin") == NULL);
	route_config_free(c);
}

static void
test_shape(void)
{
	CHECK(accepted("[]"));
	CHECK(refused("{}", "expected a JSON list"));
	CHECK(refused("[1]", "[0]: expected an object"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"permission\":\"p\"}] x",
	    "invalid JSON"));
	CHECK(refused("", "invalid JSON"));
	CHECK(accepted("[{\"method\":\"GET\",\"path\":\"/a\","
	               "\"permission\":\"p\"}]"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"permission\":\"p\",\"owner\":true}]",
	    "[0].owner: unknown field"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\"}]",
	    "[0].permission: expected a string"));
	CHECK(
	    refused("[{\"method\":\"GET\",\"permission\":\"p\"}]", "[0].path"));
	CHECK(
	    refused("[{\"path\":\"/a\",\"permission\":\"p\"}]", "[0].method"));
}

static void
test_too_many(void)
{
	char buf[ROUTE_CONFIG_MAX_RULES * 64 + 64];
	size_t o = 0;

	for (int n = ROUTE_CONFIG_MAX_RULES; n <= ROUTE_CONFIG_MAX_RULES + 1;
	     n++) {
		o = 0;
		buf[o++] = '[';
		for (int i = 0; i < n; i++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    "%s{\"method\":\"GET\",\"path\":\"/r%d\","
			    "\"permission\":\"p\"}",
			    i > 0 ? "," : "", i);
		buf[o++] = ']';
		buf[o] = '\0';
		if (n == ROUTE_CONFIG_MAX_RULES)
			CHECK(accepted(buf));
		else
			CHECK(refused(buf, "more than"));
	}
}

static void
test_methods(void)
{
	CHECK(accepted("[{\"method\":\"DELETE\",\"path\":\"/a\","
	               "\"permission\":\"p\"}]"));
	CHECK(accepted("[{\"method\":\"PATCH\",\"path\":\"/a\","
	               "\"permission\":\"p\"}]"));
	/* Method names are case-sensitive (RFC 9110 9.1). */
	CHECK(refused("[{\"method\":\"get\",\"path\":\"/a\","
	              "\"permission\":\"p\"}]",
	    "[0].method"));
	/* HEAD is implied by GET and may not be routed on its own. */
	CHECK(refused("[{\"method\":\"HEAD\",\"path\":\"/a\","
	              "\"permission\":\"p\"}]",
	    "[0].method"));
	CHECK(refused("[{\"method\":\"TRACE\",\"path\":\"/a\","
	              "\"permission\":\"p\"}]",
	    "[0].method"));
	CHECK(refused("[{\"method\":\"GET\\u0000\",\"path\":\"/a\","
	              "\"permission\":\"p\"}]",
	    "[0].method"));
	CHECK(refused("[{\"method\":1,\"path\":\"/a\",\"permission\":\"p\"}]",
	    "[0].method"));
}

static void
test_paths(void)
{
	CHECK(accepted("[{\"method\":\"GET\",\"path\":\"/a/b-c_d.e~f:g@h\","
	               "\"permission\":\"p\"}]"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"a\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/%61dmin\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a?b\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a b\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\\u0000b\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a/../b\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/./b\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	/* Dots inside a segment are fine. */
	CHECK(accepted("[{\"method\":\"GET\",\"path\":\"/..b/.c\","
	               "\"permission\":\"p\"}]"));
}

static void
test_permissions(void)
{
	char buf[512], perm[ROUTE_CONFIG_MAX_PERMISSION + 2];

	CHECK(accepted("[{\"method\":\"GET\",\"path\":\"/a\","
	               "\"permission\":\"read:data\"}]"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"permission\":\"\"}]",
	    "[0].permission"));
	/* It is sent inside scope="..." (RFC 6750 3): no quote, backslash,
	 * space or control byte may appear (RFC 6749 3.3). */
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"permission\":\"read \\\"x\"}]",
	    "[0].permission"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"permission\":\"read\\\\x\"}]",
	    "[0].permission"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"permission\":\"read data\"}]",
	    "[0].permission"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"permission\":\"read:data\\u0000x\"}]",
	    "[0].permission"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"permission\":[\"read:data\"]}]",
	    "[0].permission"));
	memset(perm, 'p', sizeof(perm));
	perm[ROUTE_CONFIG_MAX_PERMISSION] = '\0';
	snprintf(buf, sizeof(buf),
	    "[{\"method\":\"GET\",\"path\":\"/a\",\"permission\":\"%s\"}]",
	    perm);
	CHECK(accepted(buf));
	perm[ROUTE_CONFIG_MAX_PERMISSION] = 'p';
	perm[ROUTE_CONFIG_MAX_PERMISSION + 1] = '\0';
	snprintf(buf, sizeof(buf),
	    "[{\"method\":\"GET\",\"path\":\"/a\",\"permission\":\"%s\"}]",
	    perm);
	CHECK(refused(buf, "[0].permission"));
}

static void
test_conflicts(void)
{
	/* The same path under two methods is two rules. */
	CHECK(accepted("[{\"method\":\"GET\",\"path\":\"/a\","
	               "\"permission\":\"p\"},"
	               "{\"method\":\"DELETE\",\"path\":\"/a\","
	               "\"permission\":\"q\"}]"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"permission\":\"p\"},"
	              "{\"method\":\"GET\",\"path\":\"/a\","
	              "\"permission\":\"q\"}]",
	    "routes.json: [1].path: GET /a is already routed by [0]"));
	/* The same requests under other parameter names: neither is more
	 * specific, so the table is refused, whatever the permissions. */
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/u/{id}\","
	              "\"permission\":\"p\"},"
	              "{\"method\":\"GET\",\"path\":\"/u/{name}\","
	              "\"permission\":\"q\"}]",
	    "[1].path: GET /u/{name} is already routed by [0] (/u/{id})"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/u/*\","
	              "\"public\":true},"
	              "{\"method\":\"GET\",\"path\":\"/u/*\","
	              "\"permission\":\"q\"}]",
	    "[1].path: GET /u/* is already routed by [0]"));
	/* Overlapping shapes are fine: precedence decides (test_precedence).
	 */
	CHECK(accepted("[{\"method\":\"GET\",\"path\":\"/u/{id}\","
	               "\"permission\":\"p\"},"
	               "{\"method\":\"GET\",\"path\":\"/u/me\","
	               "\"permission\":\"q\"},"
	               "{\"method\":\"GET\",\"path\":\"/u/*\","
	               "\"permission\":\"r\"},"
	               "{\"method\":\"GET\",\"path\":\"/*\","
	               "\"public\":true}]"));
	/* A rule may not shadow the public /health (nor make it guarded). */
	CHECK(refused("[{\"method\":\"POST\",\"path\":\"/health\","
	              "\"permission\":\"p\"}]",
	    "built-in"));
}

static void
test_refcount(void)
{
	struct route_config *c = NULL;
	struct err e;

	CHECK(parse("[{\"method\":\"GET\",\"path\":\"/a\","
	            "\"permission\":\"p\"}]",
	          &c, &e) == 0);
	if (c == NULL)
		return;
	CHECK(route_config_retain(c) == c);
	route_config_free(c);
	/* Still alive after one of two references is dropped. */
	CHECK(route_config_find(c, EVHTTP_REQ_GET, "/a") != NULL);
	route_config_free(c);
	route_config_free(NULL);
}

static void
test_method_names(void)
{
	CHECK(strcmp(route_config_method_name(EVHTTP_REQ_GET), "GET") == 0);
	CHECK(strcmp(route_config_method_name(EVHTTP_REQ_HEAD), "HEAD") == 0);
	/* Every method the server accepts is named in the access log, even
	 * those no rule may use. */
	CHECK(strcmp(route_config_method_name(EVHTTP_REQ_TRACE), "TRACE") == 0);
	CHECK(strcmp(route_config_method_name(EVHTTP_REQ_CONNECT), "CONNECT") ==
	      0);
	CHECK(strcmp(route_config_method_name((enum evhttp_cmd_type)0),
	          "OTHER") == 0);
	CHECK(refused("[{\"method\":\"TRACE\",\"path\":\"/a\","
	              "\"permission\":\"p\"}]",
	    "[0].method"));
	CHECK(refused("[{\"method\":\"CONNECT\",\"path\":\"/a\","
	              "\"permission\":\"p\"}]",
	    "[0].method"));
}

/* The permission of the rule a request reaches, or "-" for none. */
static const char *
reached(const struct route_config *c, enum evhttp_cmd_type m, const char *p)
{
	const struct route_rule *r = route_config_find(c, m, p);

	if (r == NULL)
		return "-";
	return r->need.mode == GUARD_PUBLIC ? "public" : r->permission;
}

static void
test_pattern_paths(void)
{
	CHECK(accepted("[{\"method\":\"GET\",\"path\":\"/api/orders/*\","
	               "\"permission\":\"p\"}]"));
	CHECK(accepted("[{\"method\":\"GET\",\"path\":\"/*\","
	               "\"permission\":\"p\"}]"));
	CHECK(accepted("[{\"method\":\"GET\",\"path\":\"/users/{id}/orders\","
	               "\"permission\":\"p\"}]"));
	CHECK(accepted("[{\"method\":\"GET\",\"path\":\"/a/{x}/{y_2}/*\","
	               "\"permission\":\"p\"}]"));
	/* '*' only as a whole last segment; braces only around a name. */
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a/*/b\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a*\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a/**\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/u/{}\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/u/{a-b}\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/u/x{id}\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	/* An empty segment could only match a path no rule may match. */
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"//a\","
	              "\"permission\":\"p\"}]",
	    "[0].path"));
	CHECK(accepted("[{\"method\":\"GET\",\"path\":\"/a/\","
	               "\"permission\":\"p\"}]"));
}

static void
test_pattern_match(void)
{
	struct route_config *c = NULL;
	struct err e;

	CHECK(parse("[{\"method\":\"GET\",\"path\":\"/api/orders/*\","
	            "\"permission\":\"orders\"},"
	            "{\"method\":\"GET\",\"path\":\"/users/{id}\","
	            "\"permission\":\"users\"}]",
	          &c, &e) == 0);
	if (c == NULL)
		return;
	CHECK(
	    strcmp(reached(c, EVHTTP_REQ_GET, "/api/orders/1"), "orders") == 0);
	CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/api/orders/1/lines/2"),
	          "orders") == 0);
	CHECK(
	    strcmp(reached(c, EVHTTP_REQ_GET, "/api/orders/"), "orders") == 0);
	/* The prefix is "/api/orders/": not the bare path, not a sibling. */
	CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/api/orders"), "-") == 0);
	CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/api/ordersx/1"), "-") == 0);
	CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/users/42"), "users") == 0);
	CHECK(strcmp(reached(c, EVHTTP_REQ_HEAD, "/users/42"), "users") == 0);
	/* A parameter is one non-empty segment. */
	CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/users/"), "-") == 0);
	CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/users/42/x"), "-") == 0);
	CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/users"), "-") == 0);
	CHECK(strcmp(reached(c, EVHTTP_REQ_DELETE, "/users/42"), "-") == 0);
	route_config_free(c);
}

/* Most specific wins: at the first differing segment a literal beats a
 * parameter beats the rest; the order in the file does not matter. */
static void
test_precedence(void)
{
	static const char *const files[] = {
		"[{\"method\":\"GET\",\"path\":\"/*\",\"public\":true},"
		"{\"method\":\"GET\",\"path\":\"/u/"
		"*\",\"permission\":\"rest\"},"
		"{\"method\":\"GET\",\"path\":\"/u/"
		"{id}\",\"permission\":\"id\"},"
		"{\"method\":\"GET\",\"path\":\"/u/me\",\"permission\":\"me\"},"
		"{\"method\":\"GET\",\"path\":\"/u/{id}/"
		"x\",\"permission\":\"ix\"},"
		"{\"method\":\"GET\",\"path\":\"/u/me/{k}\","
		"\"permission\":\"mk\"},"
		"{\"method\":\"DELETE\",\"path\":\"/u/"
		"me\",\"permission\":\"del\"}]",
		"[{\"method\":\"DELETE\",\"path\":\"/u/"
		"me\",\"permission\":\"del\"},"
		"{\"method\":\"GET\",\"path\":\"/u/me/{k}\","
		"\"permission\":\"mk\"},"
		"{\"method\":\"GET\",\"path\":\"/u/{id}/"
		"x\",\"permission\":\"ix\"},"
		"{\"method\":\"GET\",\"path\":\"/u/me\",\"permission\":\"me\"},"
		"{\"method\":\"GET\",\"path\":\"/u/"
		"{id}\",\"permission\":\"id\"},"
		"{\"method\":\"GET\",\"path\":\"/u/"
		"*\",\"permission\":\"rest\"},"
		"{\"method\":\"GET\",\"path\":\"/*\",\"public\":true}]",
	};

	for (size_t i = 0; i < 2; i++) {
		struct route_config *c = NULL;
		struct err e;

		CHECK(parse(files[i], &c, &e) == 0);
		if (c == NULL)
			continue;
		CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/u/me"), "me") == 0);
		CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/u/42"), "id") == 0);
		CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/u/42/x"), "ix") == 0);
		/* /u/me/x: "me" (literal) beats {id} at the second segment. */
		CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/u/me/x"), "mk") == 0);
		CHECK(
		    strcmp(reached(c, EVHTTP_REQ_GET, "/u/42/y"), "rest") == 0);
		CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/u/"), "rest") == 0);
		CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/u"), "public") == 0);
		CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/"), "public") == 0);
		CHECK(strcmp(reached(c, EVHTTP_REQ_GET, "/other/x"),
		          "public") == 0);
		/* Precedence is per method: DELETE /u/me has its own rule,
		 * DELETE /u/42 none. */
		CHECK(
		    strcmp(reached(c, EVHTTP_REQ_DELETE, "/u/me"), "del") == 0);
		CHECK(strcmp(reached(c, EVHTTP_REQ_DELETE, "/u/42"), "-") == 0);
		route_config_free(c);
	}
}

/* Any path a proxy or an upstream could rewrite into another matches no
 * rule, even under a public catch-all. */
static void
test_canonical_only(void)
{
	static const char *const tricks[] = { "//admin", "/x//admin",
		"/%61dmin", "/%2e%2e/admin", "/x/%2E%2E/admin", "/x/../admin",
		"/x/./admin", "/x/..;/admin", "/x/.;a/admin", "/x%2fadmin",
		"/x%2Fadmin", "/x%5cadmin", "/x\\admin", "/x/%", "/x/%4",
		"/x/%zz", "/x/%00", "/x/%7f", "/x/a b", "/x/\x80", "/x/\"",
		"/x/<", "x/admin", "", "/x/..%3b/admin", "/x/..%3B",
		"/x/%252e%252e/admin", "/x/%25" };
	struct route_config *c = NULL;
	struct err e;

	CHECK(parse("[{\"method\":\"GET\",\"path\":\"/*\",\"public\":true}]",
	          &c, &e) == 0);
	if (c == NULL)
		return;
	for (size_t i = 0; i < sizeof(tricks) / sizeof(*tricks); i++) {
		unsigned methods = 1234;

		if (route_config_match(
		        c, EVHTTP_REQ_GET, tricks[i], &methods) != NULL ||
		    methods != 0) {
			fprintf(stderr, "  matched: %s\n", tricks[i]);
			CHECK(0);
		}
	}
	/* Positive controls: what stays canonical. */
	CHECK(route_config_find(c, EVHTTP_REQ_GET, "/x/a;b=1") != NULL);
	CHECK(route_config_find(c, EVHTTP_REQ_GET, "/x/..b/.c/") != NULL);
	CHECK(route_config_find(c, EVHTTP_REQ_GET, "/x/%C3%A9/%20") != NULL);
	CHECK(route_config_find(c, EVHTTP_REQ_GET, "/x/%3a/*/%2C") != NULL);
	CHECK(route_config_find(c, EVHTTP_REQ_GET, "/") != NULL);
	route_config_free(c);
}

static void
test_needs(void)
{
	struct route_config *c = NULL;
	const struct route_rule *r;
	struct err e;

	CHECK(parse("[{\"method\":\"GET\",\"path\":\"/all\","
	            "\"all_of\":[\"a\",\"b\"]},"
	            "{\"method\":\"GET\",\"path\":\"/any\","
	            "\"any_of\":[\"a\",\"b\",\"c\"]},"
	            "{\"method\":\"GET\",\"path\":\"/pub\",\"public\":true}]",
	          &c, &e) == 0);
	if (c == NULL)
		return;
	r = route_config_find(c, EVHTTP_REQ_GET, "/all");
	CHECK(r != NULL && r->need.mode == GUARD_ALL_OF && r->need.n == 2 &&
	      strcmp(r->permission, "a b") == 0 && r->permission_len == 3);
	r = route_config_find(c, EVHTTP_REQ_GET, "/any");
	CHECK(r != NULL && r->need.mode == GUARD_ANY_OF && r->need.n == 3 &&
	      strcmp(r->permission, "a b c") == 0);
	r = route_config_find(c, EVHTTP_REQ_GET, "/pub");
	CHECK(r != NULL && r->need.mode == GUARD_PUBLIC && r->need.n == 0 &&
	      r->permission == NULL);
	route_config_free(c);

	/* Exactly one requirement per rule. */
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"permission\":\"p\",\"public\":true}]",
	    "[0].public: not together with permission"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"all_of\":[\"p\"],\"any_of\":[\"q\"]}]",
	    "[0].any_of: not together with all_of"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\"}]",
	    "[0].permission: expected a string"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\",\"public\":false}]",
	    "[0].public: expected true"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\",\"public\":1}]",
	    "[0].public: expected true"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\",\"all_of\":[]}]",
	    "[0].all_of: expected a list of 1 to 16"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\",\"any_of\":\"p\"}]",
	    "[0].any_of: expected a list"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"any_of\":[\"p\",1]}]",
	    "[0].any_of: expected a scope token"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"all_of\":[\"p\",\"a b\"]}]",
	    "[0].all_of: expected a scope token"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"all_of\":[\"p\",\"p\"]}]",
	    "[0].all_of: p is listed twice"));
	CHECK(accepted("[{\"method\":\"GET\",\"path\":\"/a\","
	               "\"all_of\":[\"p\",\"q\",\"r\",\"s\",\"t\",\"u\",\"v\","
	               "\"w\",\"x\",\"y\",\"z\",\"a\",\"b\",\"c\",\"d\","
	               "\"e\"]}]"));
	CHECK(refused("[{\"method\":\"GET\",\"path\":\"/a\","
	              "\"all_of\":[\"p\",\"q\",\"r\",\"s\",\"t\",\"u\",\"v\","
	              "\"w\",\"x\",\"y\",\"z\",\"a\",\"b\",\"c\",\"d\","
	              "\"e\",\"f\"]}]",
	    "[0].all_of: expected a list of 1 to 16"));
}

/* What a 405 names: every method of every rule the path matches. */
static void
test_methods_seen(void)
{
	struct route_config *c = NULL;
	unsigned methods = 0;
	struct err e;

	CHECK(parse("[{\"method\":\"GET\",\"path\":\"/o/*\","
	            "\"permission\":\"p\"},"
	            "{\"method\":\"DELETE\",\"path\":\"/o/{id}\","
	            "\"permission\":\"q\"},"
	            "{\"method\":\"POST\",\"path\":\"/p\","
	            "\"permission\":\"q\"}]",
	          &c, &e) == 0);
	if (c == NULL)
		return;
	CHECK(route_config_match(c, EVHTTP_REQ_PUT, "/o/1", &methods) == NULL);
	CHECK(methods == (EVHTTP_REQ_GET | EVHTTP_REQ_DELETE));
	CHECK(route_config_match(c, EVHTTP_REQ_GET, "/o/1", &methods) != NULL);
	CHECK(
	    route_config_match(c, EVHTTP_REQ_PUT, "/o/1/2", &methods) == NULL);
	CHECK(methods == EVHTTP_REQ_GET);
	CHECK(route_config_match(c, EVHTTP_REQ_PUT, "/q", &methods) == NULL);
	CHECK(methods == 0);
	route_config_free(c);
}

static void
test_method_parse(void)
{
	enum evhttp_cmd_type m;

	CHECK(route_config_method_parse("DELETE", 6, &m) == 0 &&
	      m == EVHTTP_REQ_DELETE);
	CHECK(route_config_method_parse("HEAD", 4, &m) == 0 &&
	      m == EVHTTP_REQ_HEAD);
	CHECK(route_config_method_parse("get", 3, &m) == -1);
	CHECK(route_config_method_parse("GETX", 4, &m) == -1);
	CHECK(route_config_method_parse("GET", 2, &m) == -1);
	CHECK(route_config_method_parse("PROPFIND", 8, &m) == -1);
}

int
main(void)
{
	RUN(test_demo_file);
	RUN(test_missing_file);
	RUN(test_exact_match);
	RUN(test_shape);
	RUN(test_too_many);
	RUN(test_methods);
	RUN(test_paths);
	RUN(test_permissions);
	RUN(test_conflicts);
	RUN(test_refcount);
	RUN(test_method_names);
	RUN(test_pattern_paths);
	RUN(test_pattern_match);
	RUN(test_precedence);
	RUN(test_canonical_only);
	RUN(test_needs);
	RUN(test_methods_seen);
	RUN(test_method_parse);
	return test_report();
}
