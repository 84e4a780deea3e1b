/* admin_prompt: reads a new password for jwt-admin: from the terminal
 * with echo off (asked twice), or one line from standard input for
 * scripts. Never from argv, where every user of the machine can read it
 * (/proc/PID/cmdline). */
#ifndef AUTH_ADMIN_PROMPT_H
#define AUTH_ADMIN_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define ADMIN_PROMPT_MAX 4096 /* the longest password /login accepts */

/* from_stdin, or a standard input that is not a terminal: one line of
 * stdin (the newline dropped). Otherwise the controlling terminal, echo
 * off, asked twice. *pw is the caller's (secret_free_str). Errors:
 * ERR_INVALID_REQUEST for an empty, too long or mismatched password. */
int admin_prompt_password(
    const char *who, bool from_stdin, char **pw, size_t *len, struct err *e);

#endif
