/* test_permissions: permissions.json parsing and role resolution. */
#include <string.h>

#include "permissions.h"
#include "test.h"

static const char demo[] =
    "{\"roles\":{\"user\":{\"permissions\":[\"read:data\"]},"
    "\"moderator\":{\"permissions\":[\"read:data\",\"read:admin_panel\"]},"
    "\"admin\":{\"permissions\":[\"read:data\",\"read:admin_panel\","
    "\"write:admin_panel\",\"delete:users\"]}}}";

static int
parse(const char *text, struct permissions **p, struct err *e)
{
	*e = (struct err){ 0 };
	return permissions_parse(text, strlen(text), "perm.json", p, e);
}

/* Resolves roles and compares with the expected list, in order. */
static int
resolves_to(const struct permissions *p, char **roles, size_t n_roles,
    const char *const *want, size_t n_want)
{
	const char **got = NULL;
	size_t n = 0;
	struct err e = { 0 };
	int ok;

	if (permissions_resolve(p, roles, n_roles, &got, &n, &e) == -1)
		return 0;
	ok = n == n_want;
	for (size_t i = 0; ok && i < n; i++)
		ok = strcmp(got[i], want[i]) == 0;
	free(got);
	return ok;
}

static void
test_demo_resolution(void)
{
	struct permissions *p = NULL;
	struct err e;
	char *user[] = { "user" };
	char *admin_user[] = { "admin", "user" };
	char *user_admin[] = { "user", "admin" };
	char *unknown[] = { "nobody" };
	char *mod[] = { "moderator" };
	const char *all[] = { "read:data", "read:admin_panel",
		"write:admin_panel", "delete:users" };

	CHECK(parse(demo, &p, &e) == 0);
	if (p == NULL)
		return;
	CHECK(p->n_roles == 3);
	CHECK(resolves_to(p, user, 1, all, 1));
	/* Deduplicated, in the file's order whatever the user's order. */
	CHECK(resolves_to(p, admin_user, 2, all, 4));
	CHECK(resolves_to(p, user_admin, 2, all, 4));
	CHECK(resolves_to(p, mod, 1, all, 2));
	CHECK(resolves_to(p, unknown, 1, NULL, 0));
	CHECK(resolves_to(p, NULL, 0, NULL, 0));
	permissions_free(p);
}

static void
test_role_match_is_exact(void)
{
	struct permissions *p = NULL;
	struct err e;
	char *near[] = { "admi", "Admin", "admin " };
	char *exact[] = { "admin" };
	const char *all[] = { "read:data", "read:admin_panel",
		"write:admin_panel", "delete:users" };

	CHECK(parse(demo, &p, &e) == 0);
	if (p == NULL)
		return;
	CHECK(resolves_to(p, near, 3, NULL, 0));
	CHECK(resolves_to(p, exact, 1, all, 4));
	permissions_free(p);
}

static void
test_rejects_bad_files(void)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"roles\":[]}",
		"{\"roles\":{\"user\":[\"read:data\"]}}",
		"{\"roles\":{\"user\":{}}}",
		"{\"roles\":{\"user\":{\"permissions\":\"read:data\"}}}",
		"{\"roles\":{\"user\":{\"permissions\":[1]}}}",
		"{\"roles\":{\"user\":{\"permissions\":[\"\"]}}}",
		"{\"roles\":{\"user\":{\"permissions\":[\"read\\u0000x\"]}}}",
		"{\"roles\":{\"user\":{\"permissions\":[\"read:data\"]}}} x",
		"{\"roles\":{\"user\":{\"permissions\":['read:data']}}}",
		"{\"roles\":{\"user\":{\"permissions\":[]},"
		"\"user\":{\"permissions\":[]}}}",
		"{\"roles\":{\"\":{\"permissions\":[]}}}",
		/* Not a scope-token (RFC 6749 3.3): "scope" would split or
		 * garble it. */
		"{\"roles\":{\"user\":{\"permissions\":[\"read data\"]}}}",
		"{\"roles\":{\"user\":{\"permissions\":[\"read\\tdata\"]}}}",
		"{\"roles\":{\"user\":{\"permissions\":[\"read\\\"x\"]}}}",
		"{\"roles\":{\"user\":{\"permissions\":[\"read\\\\x\"]}}}",
		"{\"roles\":{\"user\":{\"permissions\":[\"r\\u00e9ad\"]}}}",
		"{\"roles\":{\"user\":{\"permissions\":[\"read\\u007f\"]}}}",
	};
	struct permissions *p = NULL;
	struct err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = NULL;
		CHECK(parse(bad[i], &p, &e) == -1);
		CHECK(e.code == ERR_CONFIG);
		CHECK(strstr(e.msg, "perm.json") != NULL);
		CHECK(p == NULL);
	}
	/* Positive control: the smallest good file, and an empty role. */
	CHECK(
	    parse("{\"roles\":{\"user\":{\"permissions\":[]}}}", &p, &e) == 0);
	permissions_free(p);
	/* Every other printable ASCII byte is a scope-token byte. */
	p = NULL;
	CHECK(parse("{\"roles\":{\"user\":{\"permissions\":"
	            "[\"!#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~\"]}}}",
	          &p, &e) == 0);
	CHECK(p != NULL && p->roles[0].n_perms == 1);
	permissions_free(p);
}

static void
test_loads_shipped_file(void)
{
	struct permissions *p = NULL;
	struct err e = { 0 };
	char path[4096];

	test_source_path("config/permissions.json", path, sizeof(path));
	CHECK(permissions_load(path, &p, &e) == 0);
	CHECK(p != NULL && p->n_roles == 3);
	permissions_free(p);
	e = (struct err){ 0 };
	CHECK(permissions_load("/nonexistent/permissions.json", &p, &e) == -1);
	CHECK(e.code == ERR_CONFIG);
}

int
main(void)
{
	RUN(test_demo_resolution);
	RUN(test_role_match_is_exact);
	RUN(test_rejects_bad_files);
	RUN(test_loads_shipped_file);
	return test_report();
}
