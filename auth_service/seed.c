/* seed: parse secrets.json and import its users without clobbering later
 * password changes. */
#include "seed.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json_util.h"
#include "secret.h"

void
seed_free(struct seed *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_users; i++) {
		struct seed_user *u = &s->users[i];
		free(u->username);
		secret_wipe(u->password, u->password_len);
		free(u->password);
		free(u->password_hash);
		for (size_t j = 0; j < u->n_roles; j++)
			free(u->roles[j]);
		free(u->roles);
	}
	free(s->users);
	free(s);
}

static int
parse_roles(const char *label, const char *name, struct json_object *v,
    struct seed_user *u, struct err *e)
{
	size_t n;

	if (v == NULL) /* no roles: a user with no permissions */
		return 0;
	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) > STORE_MAX_ROLES)
		return err_set(e, ERR_CONFIG,
		    "%s: users.%.40s.roles: expected a list of at most %d "
		    "role names",
		    label, name, STORE_MAX_ROLES);
	if ((u->roles = calloc(n + 1, sizeof(*u->roles))) == NULL)
		return err_set(e, ERR_NOMEM, "seed");
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(v, i);
		const char *s = json_object_get_string(r);
		size_t len = (size_t)json_object_get_string_len(r);
		if (!json_object_is_type(r, json_type_string) || len == 0 ||
		    memchr(s, '\0', len) != NULL)
			return err_set(e, ERR_CONFIG,
			    "%s: users.%.40s.roles[%zu]: expected a non-empty "
			    "string",
			    label, name, i);
		if ((u->roles[u->n_roles] = strdup(s)) == NULL)
			return err_set(e, ERR_NOMEM, "seed");
		u->n_roles++;
	}
	return 0;
}

static int
parse_user(const char *label, const char *name, struct json_object *v,
    struct seed_user *u, struct err *e)
{
	struct json_object *pw = NULL, *hash = NULL, *roles = NULL;
	size_t nlen = strlen(name);

	if (nlen == 0 || nlen > STORE_MAX_USERNAME)
		return err_set(e, ERR_CONFIG,
		    "%s: users: a user name must have 1..%d bytes", label,
		    STORE_MAX_USERNAME);
	if (!json_object_is_type(v, json_type_object))
		return err_set(e, ERR_CONFIG,
		    "%s: users.%.40s: expected an object", label, name);
	json_object_object_get_ex(v, "password", &pw);
	json_object_object_get_ex(v, "password_hash", &hash);
	json_object_object_get_ex(v, "roles", &roles);
	if ((pw == NULL) == (hash == NULL))
		return err_set(e, ERR_CONFIG,
		    "%s: users.%.40s: expected exactly one of password and "
		    "password_hash",
		    label, name);
	if ((u->username = strdup(name)) == NULL)
		return err_set(e, ERR_NOMEM, "seed");
	u->username_len = nlen;
	if (pw != NULL) {
		size_t len = (size_t)json_object_get_string_len(pw);
		if (!json_object_is_type(pw, json_type_string) || len == 0 ||
		    len > SEED_MAX_PASSWORD)
			return err_set(e, ERR_CONFIG,
			    "%s: users.%.40s.password: expected a string of "
			    "1..%d bytes",
			    label, name, SEED_MAX_PASSWORD);
		if ((u->password = malloc(len + 1)) == NULL)
			return err_set(e, ERR_NOMEM, "seed");
		/* Copied with its length: an embedded NUL is password. */
		memcpy(u->password, json_object_get_string(pw), len + 1);
		u->password_len = len;
	} else {
		const char *h = json_object_get_string(hash);
		if (!json_object_is_type(hash, json_type_string) ||
		    !password_hash_valid(h))
			return err_set(e, ERR_CONFIG,
			    "%s: users.%.40s.password_hash: expected an "
			    "argon2id string ($argon2id$...)",
			    label, name);
		if ((u->password_hash = strdup(h)) == NULL)
			return err_set(e, ERR_NOMEM, "seed");
	}
	return parse_roles(label, name, roles, u, e);
}

int
seed_parse(const char *text, size_t len, const char *label, struct seed **out,
    struct err *e)
{
	struct json_object *root = NULL, *users;
	struct seed *s = NULL;
	struct err pe = { 0 };
	int rc = -1;

	if (json_parse_strict(text, len, JSON_DEFAULT_MAX_DEPTH, ERR_CONFIG,
	        &root, &pe) == -1) {
		err_set(e, ERR_CONFIG, "%s: invalid JSON: %s", label, pe.msg);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "users", &users) ||
	    !json_object_is_type(users, json_type_object)) {
		err_set(e, ERR_CONFIG, "%s: users: expected an object", label);
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->users = calloc((size_t)json_object_object_length(users) + 1,
	         sizeof(*s->users))) == NULL) {
		err_set(e, ERR_NOMEM, "seed");
		goto out;
	}
	json_object_object_foreach(users, name, v)
	{
		/* Counted first so a half-parsed user is freed too. */
		s->n_users++;
		if (parse_user(label, name, v, &s->users[s->n_users - 1], e) ==
		    -1)
			goto out;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	seed_free(s);
	json_object_put(root);
	return rc;
}

int
seed_load(const char *path, struct seed **out, struct err *e)
{
	struct err re = { 0 };
	char *text = NULL;
	size_t len = 0;
	int rc;

	/* Named by the auth.json field too: a missing file is a setting
	 * that points at the wrong place. */
	if (config_read_file(path, SEED_MAX_FILE, &text, &len, &re) == -1)
		return err_set(e, re.code, "secrets: %s", re.msg);
	rc = seed_parse(text, len, path, out, e);
	secret_wipe(text, len);
	free(text);
	return rc;
}

static bool
same_string(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* One user: decide whether the seed entry changed, then write. */
static int
apply_user(struct store *st, const struct seed_user *u,
    const struct password_cost *cost, int64_t now, struct seed_stats *stats,
    struct err *e)
{
	struct store_seed_user su = { u->username, u->username_len,
		(const char *const *)u->roles, u->n_roles };
	struct store_seed_state state = { 0 };
	char fresh[PASSWORD_HASH_MAX];
	const char *new_hash = NULL;
	int rc = -1;

	if (store_seed_state(st, u->username, u->username_len, &state, e) == -1)
		goto out;
	if (u->password_hash != NULL) {
		if (!same_string(state.seed_hash, u->password_hash))
			new_hash = u->password_hash;
	} else if (state.seed_hash == NULL ||
	           !password_verify(
	               state.seed_hash, u->password, u->password_len)) {
		if (password_hash(
		        cost, u->password, u->password_len, fresh, e) == -1)
			goto out;
		new_hash = fresh;
	}
	if (store_seed_user(st, &su, new_hash, state.seed_hash, now, e) == -1)
		goto out;
	if (!state.exists)
		stats->created++;
	else if (new_hash != NULL)
		stats->password_set++;
	else
		stats->unchanged++;
	rc = 0;
out:
	secret_wipe(fresh, sizeof(fresh));
	store_seed_state_clear(&state);
	return rc;
}

int
seed_apply(struct store *st, const struct seed *s,
    const struct password_cost *cost, int64_t now, struct seed_stats *stats,
    struct err *e)
{
	*stats = (struct seed_stats){ 0 };
	for (size_t i = 0; i < s->n_users; i++) {
		struct err first = { 0 };
		if (apply_user(st, &s->users[i], cost, now, stats, &first) == 0)
			continue;
		/* Another import wrote this user meanwhile: decide again
		 * from what it wrote. */
		if (first.code != ERR_UNAVAILABLE ||
		    apply_user(st, &s->users[i], cost, now, stats, e) == -1) {
			if (first.code != ERR_UNAVAILABLE)
				err_set(e, first.code, "%s", first.msg);
			return -1;
		}
	}
	return 0;
}

int
seed_default_client(struct store *st, const char *client_id, int64_t now,
    bool *created, struct err *e)
{
	struct store_client *found = NULL;
	struct store_client c = { .client_id = (char *)client_id,
		.grant_types =
		    STORE_GRANT_PASSWORD | STORE_GRANT_REFRESH_TOKEN };
	struct err ae = { 0 };

	*created = false;
	if (store_find_client(st, client_id, strlen(client_id), &found, e) ==
	    -1)
		return -1;
	if (found != NULL) {
		store_client_free(found);
		return 0;
	}
	if (store_add_client(st, &c, now, &ae) == -1) {
		/* Another issuer added it meanwhile: as good. */
		if (ae.code == ERR_CONFLICT)
			return 0;
		*e = ae;
		return -1;
	}
	*created = true;
	return 0;
}
