/* route_track: shared by the issuer's handlers (routes.c, oauth_routes.c):
 * the request's log record and counts (route_log_*);
 * a request counts as in flight from route_track until its reply is
 * written (the drain on SIGTERM waits for it); a reply to a client that
 * has gone settles the count with route_untrack_if_orphaned (once, just
 * before the final reply); route_reply_refusal answers a refused use case,
 * with Retry-After when it asks for one. */
#ifndef AUTH_ROUTE_TRACK_H
#define AUTH_ROUTE_TRACK_H

#include <event2/http.h>
#include <stdbool.h>

#include "request_log.h"

#include "service.h"
#include "session.h"

void route_track(struct evhttp_request *req, struct auth_ctx *ctx);
void route_untrack_if_orphaned(
    struct evhttp_request *req, struct auth_ctx *ctx);
void route_reply_refusal(
    struct evhttp_request *req, const struct session_refusal *r);

/* The request log of the issuer. routes.c's dispatch opens a record for
 * each request (route_log_open) and writes its access line when the
 * handler returns, unless the handler kept the record to answer later
 * (route_log_keep: a copy in the handler's own request state, then
 * route_log_done after the late reply; route_log_return when it answered
 * at once after all). */
void route_log_open(struct request_log *rl);
bool route_log_close(void); /* true: a handler kept the record */
void route_log_keep(struct request_log *out, const char **route);
void route_log_return(void);
void route_log_done(struct auth_ctx *ctx, const struct request_log *rl,
    const char *route, int status);

/* Who asks, for the audit lines: the record's client address (or the
 * peer's) into addr. */
void route_log_client(struct evhttp_request *req, char *addr, size_t len);

#endif
