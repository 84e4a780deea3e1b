/* store_user: what every backend does the same with a user or client row:
 * the roles column (a JSON array of strings) both ways, and a new subject. */
#include "store_user.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

int
store_roles_parse(
    const char *text, char ***roles, size_t *n_roles, struct err *e)
{
	struct json_object *arr =
	    text != NULL ? json_tokener_parse(text) : NULL;
	size_t n;
	int rc = -1;

	*roles = NULL;
	*n_roles = 0;
	if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
		err_set(e, ERR_IO, "roles is not a JSON array");
		goto out;
	}
	n = json_object_array_length(arr);
	if ((*roles = calloc(n + 1, sizeof(**roles))) == NULL) {
		err_set(e, ERR_NOMEM, "roles");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(r, json_type_string)) {
			err_set(e, ERR_IO, "roles holds a non-string");
			goto out;
		}
		if (((*roles)[*n_roles] = strdup(json_object_get_string(r))) ==
		    NULL) {
			err_set(e, ERR_NOMEM, "roles");
			goto out;
		}
		(*n_roles)++;
	}
	rc = 0;
out:
	json_object_put(arr);
	return rc;
}

int
store_user_parse_roles(const char *text, struct store_user *u, struct err *e)
{
	return store_roles_parse(text, &u->roles, &u->n_roles, e);
}

char *
store_roles_json(const char *const *roles, size_t n_roles)
{
	struct json_object *arr = json_object_new_array();
	char *text = NULL;

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < n_roles; i++)
		if (json_object_array_add(
		        arr, json_object_new_string(roles[i])) != 0)
			goto out;
	text = strdup(json_object_to_json_string_ext(
	    arr, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(arr);
	return text;
}

char *
store_user_roles_json(const struct store_seed_user *u)
{
	return store_roles_json(u->roles, u->n_roles);
}

void
store_user_new_sub(char out[STORE_SUB_LEN + 1])
{
	unsigned char b[16];

	secret_random(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, STORE_SUB_LEN + 1,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
}
