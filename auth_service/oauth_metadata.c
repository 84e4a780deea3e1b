/* oauth_metadata: builds the RFC 8414 metadata document. */
#include "oauth_metadata.h"

#include <stdio.h>
#include <string.h>

#include "json_util.h"

/* issuer + path, one '/' between them (an issuer may end in '/'). */
static int
add_url(struct json_object *o, const char *name, const char *issuer,
    const char *path)
{
	char url[1024];
	size_t n = strlen(issuer);
	int w;

	while (n > 0 && issuer[n - 1] == '/')
		n--;
	w = snprintf(url, sizeof(url), "%.*s%s", (int)n, issuer, path);
	if (w < 0 || (size_t)w >= sizeof(url))
		return -1;
	return json_add_string(o, name, url);
}

static int
add_list(struct json_object *o, const char *name, const char *const *items)
{
	struct json_object *arr = json_object_new_array();

	if (arr == NULL)
		return -1;
	for (size_t i = 0; items[i] != NULL; i++) {
		struct json_object *s = json_object_new_string(items[i]);
		if (s == NULL || json_object_array_add(arr, s) != 0) {
			json_object_put(s);
			json_object_put(arr);
			return -1;
		}
	}
	if (json_object_object_add(o, name, arr) != 0) {
		json_object_put(arr);
		return -1;
	}
	return 0;
}

struct json_object *
oauth_metadata(const char *issuer, bool password_grant)
{
	static const char *const with_password[] = { "password",
		"refresh_token", "client_credentials", NULL };
	static const char *const without_password[] = { "refresh_token",
		"client_credentials", NULL };
	/* "none": a public client sends only its client_id (RFC 7591 2). */
	static const char *const token_auth[] = { "client_secret_basic",
		"client_secret_post", "none", NULL };
	static const char *const confidential_auth[] = { "client_secret_basic",
		"client_secret_post", NULL };
	/* No authorization endpoint: no response type is offered. RFC 8414
	 * 2 requires the member, so it is present and empty. */
	static const char *const none[] = { NULL };
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	if (json_add_string(o, "issuer", issuer) == -1 ||
	    add_url(o, "token_endpoint", issuer, "/token") == -1 ||
	    add_url(o, "jwks_uri", issuer, "/.well-known/jwks.json") == -1 ||
	    add_url(o, "revocation_endpoint", issuer, "/revoke") == -1 ||
	    add_url(o, "introspection_endpoint", issuer, "/introspect") == -1 ||
	    add_list(o, "grant_types_supported",
	        password_grant ? with_password : without_password) == -1 ||
	    add_list(o, "token_endpoint_auth_methods_supported", token_auth) ==
	        -1 ||
	    add_list(o, "revocation_endpoint_auth_methods_supported",
	        token_auth) == -1 ||
	    add_list(o, "introspection_endpoint_auth_methods_supported",
	        confidential_auth) == -1 ||
	    add_list(o, "response_types_supported", none) == -1) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
