/* oauth_routes: the HTTP side of the OAuth 2.0 endpoints (POST /token,
 * /revoke, /introspect): form bodies, client credentials from HTTP Basic
 * or the form, then one use case (oauth.h, session.h) and the reply. */
#ifndef AUTH_OAUTH_ROUTES_H
#define AUTH_OAUTH_ROUTES_H

#include <event2/http.h>

/* Handlers for routes.c's table; arg is the struct auth_ctx. */
void oauth_route_token(struct evhttp_request *req, void *arg);
void oauth_route_revoke(struct evhttp_request *req, void *arg);
void oauth_route_introspect(struct evhttp_request *req, void *arg);

#endif
