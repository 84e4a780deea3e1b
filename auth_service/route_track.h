/* route_track: shared by the issuer's handlers (routes.c, oauth_routes.c):
 * a request counts as in flight from route_track until its reply is
 * written (the drain on SIGTERM waits for it); a reply to a client that
 * has gone settles the count with route_untrack_if_orphaned (once, just
 * before the final reply); route_reply_refusal answers a refused use case,
 * with Retry-After when it asks for one. */
#ifndef AUTH_ROUTE_TRACK_H
#define AUTH_ROUTE_TRACK_H

#include <event2/http.h>

#include "service.h"
#include "session.h"

void route_track(struct evhttp_request *req, struct auth_ctx *ctx);
void route_untrack_if_orphaned(
    struct evhttp_request *req, struct auth_ctx *ctx);
void route_reply_refusal(
    struct evhttp_request *req, const struct session_refusal *r);

#endif
