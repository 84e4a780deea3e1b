/* service: assembles the running state of auth_service from its settings
 * (keys, permissions, store and seed import, hashing pool, throttle) and
 * takes it apart again. */
#ifndef AUTH_SERVICE_H
#define AUTH_SERVICE_H

#include <event2/event.h>

#include "auth_config.h"
#include "routes.h"

/* The signing key first, then public_keys, then public_keys_dir (a
 * rotation's earlier keys). At start and on SIGHUP. */
int service_load_keys(
    const struct auth_config *cfg, struct jwks **out, struct err *e);

/* Everything --check-config validates: keys and both JSON files. Errors
 * are ERR_CONFIG-style lines naming the file and the field. */
int service_check(const struct auth_config *cfg, struct err *e);

/* Fills ctx; on failure everything built so far is released. */
int service_open(struct auth_ctx *ctx, const struct auth_config *cfg,
    struct event_base *base, struct err *e);

/* Stops the hashing pool (delivering what is left) and frees the rest. */
void service_close(struct auth_ctx *ctx);

#endif
