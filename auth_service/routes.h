/* routes: the HTTP handlers of auth_service (SPEC "Auth service") and the
 * state they share, owned by the event loop thread. */
#ifndef AUTH_ROUTES_H
#define AUTH_ROUTES_H

#include <event2/event.h>
#include <event2/http.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth_config.h"
#include "issuer.h"
#include "jwks.h"
#include "password.h"
#include "permissions.h"
#include "static_files.h"
#include "store.h"
#include "throttle.h"

struct auth_ctx {
	const struct auth_config *cfg;
	struct event_base *base;
	struct store *store;
	struct password_pool *pool;
	struct throttle *throttle;
	struct permissions *perms; /* replaced on SIGHUP */
	struct jwks *keys;         /* every published key; keys[0] signs */
	struct json_object *jwks_json;
	struct issuer issuer;
	struct password_cost cost;
	/* Unknown users are verified against this, so they cost what a
	 * wrong password costs. */
	char dummy_hash[PASSWORD_HASH_MAX];
	struct static_files *demo;    /* NULL: /demo answers 404 */
	struct static_files *openapi; /* NULL: /openapi.json answers 404 */
	size_t active; /* requests whose reply is not fully sent */
	bool draining; /* SIGTERM seen: no new logins */
};

/* Installs the route table on http with ctx as the handlers' argument. */
void routes_install(struct evhttp *http, struct auth_ctx *ctx);

/* Seconds on a clock that never jumps back, for the throttle. */
int64_t routes_monotonic(void);

#endif
