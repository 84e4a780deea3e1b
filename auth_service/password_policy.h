/* password_policy: what a new password must be (NIST SP 800-63B
 * 5.1.1.2): at least 8 characters, long passphrases welcome (up to the
 * service's byte limit), no composition rules, and not on the list of
 * common passwords the project ships (config/common-passwords.txt,
 * compared case-insensitively) nor the user's own name. Applied to
 * registration and to jwt-admin users add/passwd; seeded users keep the
 * passwords their file gives them. */
#ifndef AUTH_PASSWORD_POLICY_H
#define AUTH_PASSWORD_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define PASSWORD_POLICY_MIN_CHARS 8

struct password_policy;

/* Reads the list at path (one password a line, '#' comments; "" for
 * none). A missing file is ERR_CONFIG unless missing_ok, when the list is
 * empty (and *missing set). */
int password_policy_load(const char *path, bool missing_ok,
    struct password_policy **out, bool *missing, struct err *e);
void password_policy_free(struct password_policy *p);

/* 0 when pw may be set for user; else ERR_WEAK_PASSWORD saying why (for
 * the log and the operator, never the password itself). */
int password_policy_check(const struct password_policy *p, const char *user,
    size_t user_len, const char *pw, size_t len, struct err *e);

/* Entries on the list. */
size_t password_policy_size(const struct password_policy *p);

#endif
