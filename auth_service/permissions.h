/* permissions: config/permissions.json, {"roles":{"<role>":{"permissions":
 * [...]}}}, and the resolution of a user's roles into the permissions of
 * an access token: deduplicated, in the order the file lists them. */
#ifndef AUTH_PERMISSIONS_H
#define AUTH_PERMISSIONS_H

#include <stddef.h>

#include "err.h"

#define PERMISSIONS_MAX_FILE ((size_t)1024 * 1024)

struct permissions_role {
	char *name;
	char **perms;
	size_t n_perms;
};

struct permissions {
	struct permissions_role *roles;
	size_t n_roles;
};

/* Errors are ERR_CONFIG naming the file and the member. */
int permissions_load(const char *path, struct permissions **out, struct err *e);
int permissions_parse(const char *text, size_t len, const char *label,
    struct permissions **out, struct err *e);
void permissions_free(struct permissions *p);

/* The permissions granted by roles (unknown roles grant nothing), as a
 * malloc'd array of strings borrowed from p; *out is the caller's to free
 * (the array only). Roles are compared exactly. */
int permissions_resolve(const struct permissions *p, char *const *roles,
    size_t n_roles, const char ***out, size_t *n, struct err *e);

#endif
