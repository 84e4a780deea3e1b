/* routes: the HTTP side of auth_service: each handler parses the request,
 * makes one call (session.h for the use cases) and replies. */
#ifndef AUTH_ROUTES_H
#define AUTH_ROUTES_H

#include <event2/http.h>

#include "service.h"
#include "session.h"

/* Installs the route table on http with ctx as the handlers' argument. */
void routes_install(struct evhttp *http, struct auth_ctx *ctx);

/* For the handlers of oauth_routes.c: a request counts as in flight from
 * routes_track until its reply is written; a reply to a client that has
 * gone settles the count with routes_untrack_if_orphaned (once, just
 * before the final reply). routes_reply_refusal answers a refused use
 * case, with Retry-After when it asks for one. */
void routes_track(struct evhttp_request *req, struct auth_ctx *ctx);
void routes_untrack_if_orphaned(
    struct evhttp_request *req, struct auth_ctx *ctx);
void routes_reply_refusal(
    struct evhttp_request *req, const struct session_refusal *r);

#endif
