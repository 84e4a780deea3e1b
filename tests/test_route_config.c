/* test_route_config: routes.json parsing, its refusals (each next to a
 * positive control), exact raw-path matching and reference counting. */
#include <string.h>

#include "route_config.h"
#include "test.h"

static void
handler_health(struct evhttp_request *req, void *arg)
{
	(void)req;
	(void)arg;
}

static void
handler_guarded(struct evhttp_request *req, void *arg)
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
	return route_config_parse(text, strlen(text), "routes.json", builtin, 1,
	    handler_guarded, out, e);
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
	          builtin, 1, handler_guarded, &c, &e) == 0);
	if (c == NULL)
		return;
	CHECK(c->n_rules == 3);
	CHECK(c->n_table == 4);
	/* Built-in routes come first and keep their handler. */
	CHECK(strcmp(c->table[0].path, "/health") == 0);
	CHECK(c->table[0].handler == handler_health);
	CHECK(c->table[1].handler == handler_guarded);
	r = route_config_find(c, EVHTTP_REQ_GET, "/protected");
	CHECK(r != NULL && strcmp(r->permission, "read:data") == 0 &&
	      r->permission_len == 9);
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

	CHECK(route_config_load("/nonexistent/routes.json", builtin, 1,
	          handler_guarded, &c, &e) == -1);
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
	              "\"permission\":\"p\",\"public\":true}]",
	    "[0].public: unknown field"));
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
	    "[1]: GET /a is already routed by [0]"));
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
	return test_report();
}
