/* registration: POST /register as a use case: a new user with the
 * configured default roles, when allow_registration is on. Throttled
 * like login (per client address, every attempt counting), the password
 * checked against password_policy.h, argon2id off the loop. */
#ifndef AUTH_REGISTRATION_H
#define AUTH_REGISTRATION_H

#include <stddef.h>

#include "service.h"
#include "session.h"

/* Called once on the loop: the new user (borrowed for the call), or NULL
 * and why (ERR_CONFLICT: the name is taken). */
typedef void (*registration_done)(
    const struct store_user *u, const struct session_refusal *r, void *arg);

/* -1: refused at once (r filled: ERR_NOT_FOUND when registration is off,
 * ERR_INVALID_REQUEST, ERR_WEAK_PASSWORD, ERR_THROTTLED with
 * retry_after); 0: done will be called. */
int registration_start(struct auth_ctx *ctx, const char *name, size_t name_len,
    const char *password, size_t password_len, const char *addr,
    registration_done done, void *arg, struct session_refusal *r);

#endif
