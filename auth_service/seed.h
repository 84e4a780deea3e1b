/* seed: config/secrets.json, {"users":{"<name>":{"password":"<plain>" |
 * "password_hash":"$argon2id$...","roles":[...]}}}, imported into the
 * store. Plain passwords are hashed on import and never stored.
 *
 * A user's "seed hash" column remembers the hash this import last wrote.
 * An entry counts as unchanged when its password_hash equals that seed
 * hash, or its plain password verifies against it (one argon2id verify per
 * plain-password user per import: no fast fingerprint of the password is
 * ever stored). Only a changed entry overwrites the password, so a
 * password changed later by an admin tool survives restarts and reloads
 * until the seed entry of that user itself changes. Roles always follow
 * the file. Users missing from the file are left as they are. */
#ifndef AUTH_SEED_H
#define AUTH_SEED_H

#include <stddef.h>
#include <stdint.h>

#include "password.h"
#include "store.h"

#define SEED_MAX_FILE ((size_t)4 * 1024 * 1024)
#define SEED_MAX_PASSWORD 4096

struct seed_user {
	char *username;
	size_t username_len;
	char *password; /* plain, wiped on free; or NULL */
	size_t password_len;
	char *password_hash; /* or NULL */
	char **roles;
	size_t n_roles;
};

struct seed {
	struct seed_user *users;
	size_t n_users;
};

struct seed_stats {
	size_t created, password_set, unchanged;
};

/* Parses and validates the whole file; ERR_CONFIG naming file and member. */
int seed_load(const char *path, struct seed **out, struct err *e);
int seed_parse(const char *text, size_t len, const char *label,
    struct seed **out, struct err *e);
void seed_free(struct seed *s);

int seed_apply(struct store *st, const struct seed *s,
    const struct password_cost *cost, int64_t now, struct seed_stats *stats,
    struct err *e);

/* The configured client_id (the JSON /login and /refresh speak for it)
 * as a public client allowed the password and refresh_token grants, if
 * no client of that id exists; an operator's changes to it are kept.
 * *created says whether it was added. */
int seed_default_client(struct store *st, const char *client_id, int64_t now,
    bool *created, struct err *e);

#endif
