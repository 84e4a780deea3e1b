/* cors: cross-origin access for exactly one configured origin, the
 * teaching demo page served by the auth service (Fetch standard, CORS
 * protocol). Tokens travel in the Authorization header, never in cookies,
 * so credentials mode is never enabled and no other origin is ever
 * echoed back. */
#ifndef RESOURCE_CORS_H
#define RESOURCE_CORS_H

#include <event2/http.h>
#include <stdbool.h>

#include "err.h"

#define CORS_MAX_AGE 600 /* seconds a browser may cache a preflight */

struct cors_policy {
	const char *origin; /* "http://127.0.0.1:5000"; NULL or "": off */
};

/* An origin as a browser sends it (RFC 6454 6.2): "http" or "https",
 * "://", a host, an optional ":port", nothing after. ERR_CONFIG. */
int cors_check_origin(const char *origin, struct err *e);

/* Call first for every request. A preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) from the configured origin asking for
 * GET, HEAD or DELETE with at most the Authorization header is answered
 * here with 204 and true is returned. Anything else returns false: a
 * request from the configured origin gets Access-Control-Allow-Origin and
 * Access-Control-Expose-Headers: WWW-Authenticate added to its coming
 * reply; every reply gets Vary: Origin while CORS is on. */
bool cors_handle(const struct cors_policy *p, struct evhttp_request *req);

#endif
