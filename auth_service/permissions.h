/* permissions: config/permissions.json, {"roles":{"<role>":{"permissions":
 * [...]}}}, and the resolution of a user's roles into the permissions of
 * an access token: deduplicated, in the order the file lists them. */
#ifndef AUTH_PERMISSIONS_H
#define AUTH_PERMISSIONS_H

#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

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
	struct permissions_stamp {
		dev_t dev;
		ino_t ino;
		off_t size;
		struct timespec mtime;
	} stamp;  /* of the file when loaded; zero if parsed from memory */
	int refs; /* atomic; starts at 1 */
};

/* Errors are ERR_CONFIG naming the file and the member. */
int permissions_load(const char *path, struct permissions **out, struct err *e);
int permissions_parse(const char *text, size_t len, const char *label,
    struct permissions **out, struct err *e);
/* Reference counted, so a worker can keep using a set the loop has
 * replaced: retain takes one more, free drops one. NULL is fine. */
struct permissions *permissions_retain(struct permissions *p);
void permissions_free(struct permissions *p);

/* Reloads *p from path if the file changed since it was loaded (a stat
 * per call), so a permission change shows in the next token even without
 * SIGHUP (every login and refresh grants the permissions of now). A file
 * that no longer parses is logged once per change and the running set
 * kept: returns -1 with e set, *p untouched. 0 if unchanged or reloaded. */
int permissions_refresh(
    struct permissions **p, const char *path, struct err *e);

/* The permissions granted by roles (unknown roles grant nothing), as a
 * malloc'd array of strings borrowed from p; *out is the caller's to free
 * (the array only). Roles are compared exactly. */
int permissions_resolve(const struct permissions *p, char *const *roles,
    size_t n_roles, const char ***out, size_t *n, struct err *e);

#endif
