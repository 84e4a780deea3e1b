/* store_user: helpers the backends share for user rows (not part of the
 * store interface: only backends include this). */
#ifndef AUTH_STORE_USER_H
#define AUTH_STORE_USER_H

#include "store.h"

/* A roles column (a JSON array of strings) both ways, users and clients;
 * store_roles_json returns NULL when out of memory. */
int store_roles_parse(
    const char *text, char ***roles, size_t *n_roles, struct err *e);
char *store_roles_json(const char *const *roles, size_t n_roles);
/* Fills u->roles from the stored JSON array of strings. */
int store_user_parse_roles(
    const char *text, struct store_user *u, struct err *e);
/* The roles of a seeded user as the JSON array stored; NULL: no memory. */
char *store_user_roles_json(const struct store_seed_user *u);
/* A random UUID, version 4 (RFC 9562 section 5.4): the user's "sub", so
 * a renamed user keeps its subject and a reused name gets a new one. */
void store_user_new_sub(char out[STORE_SUB_LEN + 1]);

#endif
