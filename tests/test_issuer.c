/* test_issuer: the one issuing policy: claims for a user and for a
 * client, the client_id, and scope narrowing (within a grant's scope,
 * then to what is asked; asking for more is invalid_scope). */
#include <string.h>

#include "issuer.h"
#include "permissions.h"
#include "test.h"

static const char perms_json[] =
    "{\"roles\":{\"user\":{\"permissions\":[\"read:data\"]},"
    "\"admin\":{\"permissions\":[\"read:data\",\"read:admin_panel\","
    "\"delete:users\"]}}}";

static struct permissions *perms;
static const struct issuer is = { .issuer = "http://i",
	.audience = "aud",
	.client_id = "default",
	.access_ttl = 900 };

static const char *
str(struct json_object *c, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(c, name, &v))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *
claims(const char *within, const char *scope, struct err *e)
{
	char *roles[] = { "admin" };
	struct issuer_subject s = { .sub = "s",
		.username = "u",
		.roles = roles,
		.n_roles = 1,
		.client_id = "app",
		.within = within,
		.scope = scope };

	*e = (struct err){ 0 };
	return issuer_claims(&is, &s, perms, 1000, 60, e);
}

static void
test_everything_held_without_scope(void)
{
	struct err e;
	struct json_object *c = claims(NULL, NULL, &e);

	CHECK(c != NULL);
	CHECK(strcmp(str(c, "scope"),
	          "read:data read:admin_panel delete:users") == 0);
	CHECK(strcmp(str(c, "client_id"), "app") == 0);
	json_object_put(c);
}

static void
test_scope_narrows(void)
{
	struct err e;
	struct json_object *c = claims(NULL, "delete:users read:data", &e);
	struct json_object *p;

	CHECK(c != NULL);
	if (c == NULL)
		return;
	/* In the permissions' own order, whatever the request's. */
	CHECK(strcmp(str(c, "scope"), "read:data delete:users") == 0);
	CHECK(json_object_object_get_ex(c, "permissions", &p) &&
	      json_object_array_length(p) == 2);
	json_object_put(c);
}

static void
test_within_and_more_than_held(void)
{
	struct err e;
	struct json_object *c = claims("read:data", NULL, &e);

	CHECK(c != NULL && strcmp(str(c, "scope"), "read:data") == 0);
	json_object_put(c);
	/* Outside the grant: not held any more. */
	CHECK(claims("read:data", "delete:users", &e) == NULL);
	CHECK(e.code == ERR_INVALID_SCOPE);
	CHECK(claims(NULL, "read:data fly", &e) == NULL);
	CHECK(e.code == ERR_INVALID_SCOPE);
	/* Malformed (RFC 6749 3.3): two spaces, a quote, a control. */
	CHECK(claims(NULL, "read:data  delete:users", &e) == NULL);
	CHECK(e.code == ERR_INVALID_SCOPE);
	CHECK(claims(NULL, "read\"data", &e) == NULL);
	CHECK(claims(NULL, "", &e) == NULL);
	/* A prefix of a permission is not it. */
	CHECK(claims(NULL, "read:dat", &e) == NULL);
	CHECK(e.code == ERR_INVALID_SCOPE);
}

static void
test_client_subject(void)
{
	char *roles[] = { "user" };
	struct issuer_subject s = {
		.sub = "svc", .roles = roles, .n_roles = 1, .client_id = NULL
	};
	struct err e = { 0 };
	struct json_object *c = issuer_claims(&is, &s, perms, 1000, 60, &e);

	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK(str(c, "username") == NULL);
	CHECK(strcmp(str(c, "client_id"), "default") == 0);
	json_object_put(c);
}

int
main(void)
{
	struct err e = { 0 };

	if (permissions_parse(
	        perms_json, strlen(perms_json), "p.json", &perms, &e) == -1)
		return 1;
	RUN(test_everything_held_without_scope);
	RUN(test_scope_narrows);
	RUN(test_within_and_more_than_held);
	RUN(test_client_subject);
	permissions_free(perms);
	return test_report();
}
