/* routes: the HTTP side of auth_service: each handler parses the request,
 * makes one call (session.h for the use cases) and replies. */
#ifndef AUTH_ROUTES_H
#define AUTH_ROUTES_H

#include <event2/http.h>

#include "service.h"

/* Installs the route table on http with ctx as the handlers' argument. */
void routes_install(struct evhttp *http, struct auth_ctx *ctx);

/* A listener of its own for GET /metrics (metrics_bind). */
void routes_install_metrics(struct evhttp *http, struct auth_ctx *ctx);

#endif
