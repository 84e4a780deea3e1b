/* permissions: load the role -> permissions table and resolve a user's
 * roles into the permission list of a token. */
#include "permissions.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json_util.h"

struct permissions *
permissions_retain(struct permissions *p)
{
	if (p != NULL)
		__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

void
permissions_free(struct permissions *p)
{
	if (p == NULL)
		return;
	/* The last reference frees (a worker may still sign with a set
	 * that a reload has replaced). */
	if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < p->n_roles; i++) {
		for (size_t j = 0; j < p->roles[i].n_perms; j++)
			free(p->roles[i].perms[j]);
		free(p->roles[i].perms);
		free(p->roles[i].name);
	}
	free(p->roles);
	free(p);
}

/* A permission is also a scope-token of the token's space-separated
 * "scope" claim: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) (RFC 6749
 * 3.3, RFC 9068 2.2.3). A space, quote, backslash, control byte or non-
 * ASCII byte would make "scope" say something else than "permissions",
 * and a NUL would let a C string shorten it: refused here. */
static bool
scope_token(struct json_object *v)
{
	const unsigned char *s;
	size_t len;

	if (!json_object_is_type(v, json_type_string))
		return false;
	s = (const unsigned char *)json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

static int
parse_role(const char *label, const char *name, struct json_object *v,
    struct permissions_role *r, struct err *e)
{
	struct json_object *list;
	size_t n;

	if (!json_object_is_type(v, json_type_object) ||
	    !json_object_object_get_ex(v, "permissions", &list) ||
	    !json_object_is_type(list, json_type_array))
		return err_set(e, ERR_CONFIG,
		    "%s: roles.%.40s: expected {\"permissions\":[...]}", label,
		    name);
	if ((r->name = strdup(name)) == NULL)
		return err_set(e, ERR_NOMEM, "permissions");
	n = json_object_array_length(list);
	if ((r->perms = calloc(n + 1, sizeof(*r->perms))) == NULL)
		return err_set(e, ERR_NOMEM, "permissions");
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(list, i);
		if (!scope_token(p))
			return err_set(e, ERR_CONFIG,
			    "%s: roles.%.40s.permissions[%zu]: expected a "
			    "scope-token (printable ASCII, no space, \" or \\)",
			    label, name, i);
		if ((r->perms[r->n_perms] =
		            strdup(json_object_get_string(p))) == NULL)
			return err_set(e, ERR_NOMEM, "permissions");
		r->n_perms++;
	}
	return 0;
}

int
permissions_parse(const char *text, size_t len, const char *label,
    struct permissions **out, struct err *e)
{
	struct json_object *root = NULL, *roles;
	struct permissions *p = NULL;
	struct err pe = { 0 };
	int rc = -1;

	if (json_parse_strict(text, len, JSON_DEFAULT_MAX_DEPTH, ERR_CONFIG,
	        &root, &pe) == -1) {
		err_set(e, ERR_CONFIG, "%s: invalid JSON: %s", label, pe.msg);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "roles", &roles) ||
	    !json_object_is_type(roles, json_type_object)) {
		err_set(e, ERR_CONFIG, "%s: roles: expected an object", label);
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) != NULL)
		p->refs = 1;
	if (p == NULL ||
	    (p->roles = calloc((size_t)json_object_object_length(roles) + 1,
	         sizeof(*p->roles))) == NULL) {
		err_set(e, ERR_NOMEM, "permissions");
		goto out;
	}
	/* json-c keeps members in file order, which is the token's order. */
	json_object_object_foreach(roles, name, v)
	{
		if (name[0] == '\0') {
			err_set(
			    e, ERR_CONFIG, "%s: roles: empty role name", label);
			goto out;
		}
		if (parse_role(label, name, v, &p->roles[p->n_roles], e) ==
		    -1) {
			p->n_roles++; /* free what was parsed */
			goto out;
		}
		p->n_roles++;
	}
	*out = p;
	p = NULL;
	rc = 0;
out:
	permissions_free(p);
	json_object_put(root);
	return rc;
}

static int
stamp_of(const char *path, struct permissions_stamp *out)
{
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (stat(path, &st) == -1)
		return -1;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	out->size = st.st_size;
	out->mtime = st.st_mtim;
	return 0;
}

static bool
stamp_equal(
    const struct permissions_stamp *a, const struct permissions_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

int
permissions_load(const char *path, struct permissions **out, struct err *e)
{
	struct permissions_stamp stamp;
	struct err re = { 0 };
	char *text = NULL;
	size_t len;
	int rc;

	/* The stamp is taken before the read: a write in between only means
	 * one more reload later. */
	stamp_of(path, &stamp);
	/* Named by the auth.json field too: a missing file is a setting
	 * that points at the wrong place. */
	if (config_read_file(path, PERMISSIONS_MAX_FILE, &text, &len, &re) ==
	    -1)
		return err_set(e, re.code, "permissions: %s", re.msg);
	rc = permissions_parse(text, len, path, out, e);
	free(text);
	if (rc == 0)
		(*out)->stamp = stamp;
	return rc;
}

int
permissions_refresh(struct permissions **p, const char *path, struct err *e)
{
	struct permissions_stamp now;
	struct permissions *fresh = NULL;

	if (stamp_of(path, &now) == -1 || stamp_equal(&now, &(*p)->stamp))
		return 0; /* unchanged, or gone: keep what runs */
	if (permissions_load(path, &fresh, e) == -1) {
		(*p)->stamp = now; /* report a broken file once, not per call */
		return -1;
	}
	permissions_free(*p);
	*p = fresh;
	return 0;
}

static bool
has_role(char *const *roles, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(roles[i], name) == 0)
			return true;
	return false;
}

int
permissions_resolve(const struct permissions *p, char *const *roles,
    size_t n_roles, const char ***out, size_t *n, struct err *e)
{
	const char **list;
	size_t cap = 0, used = 0;

	for (size_t i = 0; i < p->n_roles; i++)
		cap += p->roles[i].n_perms;
	if ((list = calloc(cap + 1, sizeof(*list))) == NULL)
		return err_set(e, ERR_NOMEM, "permissions");
	for (size_t i = 0; i < p->n_roles; i++) {
		if (!has_role(roles, n_roles, p->roles[i].name))
			continue;
		for (size_t j = 0; j < p->roles[i].n_perms; j++) {
			const char *perm = p->roles[i].perms[j];
			size_t k = 0;
			while (k < used && strcmp(list[k], perm) != 0)
				k++;
			if (k == used)
				list[used++] = perm;
		}
	}
	*out = list;
	*n = used;
	return 0;
}
