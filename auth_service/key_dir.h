/* key_dir: the layout of the issuer's key directory, shared by jwt-admin
 * (which rotates keys) and auth_service (which publishes them):
 *   DIR/private_key.pem       the signing key (PKCS#8, 0600)
 *   DIR/public_key.pem        its public half (SPKI)
 *   DIR/published/<kid>.pem   earlier keys: no longer sign, still verify
 *   DIR/retired/<kid>.pem     keys taken out of the JWKS
 * A rotation moves the signing key's public half to published/ before a
 * new key takes its place, so a token signed a moment earlier still
 * verifies (RFC 7517 section 5: a set publishes several keys at once). */
#ifndef AUTH_KEY_DIR_H
#define AUTH_KEY_DIR_H

#include <stddef.h>

#include "err.h"
#include "jwks.h"

#define KEY_DIR_PRIVATE "private_key.pem"
#define KEY_DIR_PUBLIC "public_key.pem"
#define KEY_DIR_PUBLISHED "published"
#define KEY_DIR_RETIRED "retired"
#define KEY_DIR_MAX_FILES 64

/* dir + "/" + name into buf; ERR_CONFIG if it does not fit. */
int key_dir_path(
    const char *dir, const char *name, char *buf, size_t len, struct err *e);

/* The names of the "*.pem" files in dir (no subdirectories, no dot
 * files), sorted, at most KEY_DIR_MAX_FILES. A missing dir gives none. */
int key_dir_list(const char *dir, char ***names, size_t *n, struct err *e);
void key_dir_list_free(char **names, size_t n);

/* Adds every public key of dir (key_dir_list order) to set, skipping a
 * kid the set already has (the signing key's own public half). A missing
 * dir adds nothing; a file that is not a usable public key is ERR_KEY
 * naming it. */
int key_dir_add_published(const char *dir, struct jwks *set, struct err *e);

#endif
