/* service: the running state of auth_service (struct auth_ctx, owned by
 * the event loop thread), assembled from its settings (keys, permissions,
 * store and seed import, hashing pool, throttle) and taken apart again. */
#ifndef AUTH_SERVICE_H
#define AUTH_SERVICE_H

#include <event2/event.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_config.h"
#include "issuer.h"
#include "jwks.h"
#include "password.h"
#include "password_policy.h"
#include "permissions.h"
#include "refresh_token.h"
#include "static_files.h"
#include "store.h"
#include "store_pool.h"
#include "throttle.h"

struct auth_ctx {
	const struct auth_config *cfg;
	struct event_base *base;
	struct store_pool *db; /* every database step, off the loop */
	struct refresh_key refresh_key;
	struct password_pool *pool;
	struct throttle *throttle;
	struct permissions *perms; /* replaced on SIGHUP */
	struct jwks *keys;         /* every published key; keys[0] signs */
	struct json_object *jwks_json;
	struct issuer issuer; /* issuer.issuer points at issuer_url */
	char issuer_url[AUTH_ISSUER_MAX];
	struct password_cost cost;
	/* Unknown users are verified against this, so they cost what a
	 * wrong password costs. */
	char dummy_hash[PASSWORD_HASH_MAX];
	struct password_policy *policy; /* new passwords (registration) */
	struct static_files *demo;      /* NULL: /demo answers 404 */
	struct static_files *openapi;   /* NULL: /openapi.json answers 404 */
	size_t active; /* requests whose reply is not fully sent */
	bool draining; /* SIGTERM seen: no new logins */
	bool closing;  /* service_close runs: no step may start another */
};

/* Seconds on a clock that never jumps back, for the throttle. */
int64_t service_monotonic(void);

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

/* Sets the issuer URL once the listening port is known
 * (auth_config_issuer). */
int service_set_issuer(struct auth_ctx *ctx, int64_t port, struct err *e);

/* Stops the hashing pool (delivering what is left) and frees the rest. */
void service_close(struct auth_ctx *ctx);

#endif
