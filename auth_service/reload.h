/* reload: SIGHUP re-reads permissions.json (at once, on the loop) and
 * secrets.json (on a thread with its own database connection, since a
 * plain seed password costs an argon2id verify). A bad file is logged and
 * the running state kept. One "reload" audit line reports the outcome. */
#ifndef AUTH_RELOAD_H
#define AUTH_RELOAD_H

#include <stdbool.h>

#include "service.h"

struct reloader;

struct reloader *reloader_new(struct auth_ctx *ctx, struct err *e);
/* Starts a reload; one asked for while another runs follows it. */
void reloader_start(struct reloader *r);
bool reloader_busy(const struct reloader *r);
/* Waits for a running import. NULL does nothing. */
void reloader_free(struct reloader *r);

#endif
