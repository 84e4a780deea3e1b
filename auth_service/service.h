/* service: assembles the running state of auth_service from its settings
 * (keys, permissions, store and seed import, hashing pool, throttle) and
 * takes it apart again. */
#ifndef AUTH_SERVICE_H
#define AUTH_SERVICE_H

#include <event2/event.h>

#include "auth_config.h"
#include "routes.h"

/* Everything --check-config validates: keys and both JSON files. Errors
 * are ERR_CONFIG-style lines naming the file and the field. */
int service_check(const struct auth_config *cfg, struct err *e);

/* Fills ctx; on failure everything built so far is released. */
int service_open(struct auth_ctx *ctx, const struct auth_config *cfg,
    struct event_base *base, struct err *e);

/* Stops the hashing pool (delivering what is left) and frees the rest. */
void service_close(struct auth_ctx *ctx);

#endif
