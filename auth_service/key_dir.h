/* key_dir: the layout of the issuer's key directory, shared by jwt-admin
 * (which rotates keys) and auth_service (which publishes them):
 *   DIR/private_key.pem       the signing key (PKCS#8, 0600)
 *   DIR/public_key.pem        its public half (SPKI)
 *   DIR/published/<kid>.pem   earlier keys: no longer sign, still verify
 *   DIR/retired/<kid>.pem     keys taken out of the JWKS
 * A rotation moves the signing key's public half to published/ before a
 * new key takes its place, so a token signed a moment earlier still
 * verifies (RFC 7517 section 5: a set publishes several keys at once).
 * A key's kid is its RFC 7638 thumbprint unless a chosen one sits beside
 * its PEM in a file of the same name ending ".kid" (private_key.kid,
 * public_key.kid, published/<kid>.kid), as jwt-keygen --kid and
 * jwt-admin keys rotate --kid write it. */
#ifndef AUTH_KEY_DIR_H
#define AUTH_KEY_DIR_H

#include <stdbool.h>
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

/* A chosen kid (RFC 7515 4.1.4): 1..JWK_KID_MAX characters of
 * [A-Za-z0-9._-], so it is also a plain file name, not "." or "..",
 * not starting with '-'. */
bool key_dir_kid_valid(const char *kid);

/* The .kid file of a PEM path ("x.pem" -> "x.kid", else path + ".kid"). */
int key_dir_kid_path(const char *pem, char *buf, size_t len, struct err *e);

/* Sets k->kid from pem's .kid file when there is one; an invalid one is
 * ERR_KEY naming the file. */
int key_dir_apply_kid(const char *pem, struct jws_key *k, struct err *e);

/* Writes pem's .kid file holding kid (mode 0644), or removes it when kid
 * is NULL. */
int key_dir_write_kid(const char *pem, const char *kid, struct err *e);

#endif
