/* demo_info: GET /demo/routes.json, the verifier's route table (method,
 * path, permission) read-only, so the teaching page draws the
 * role -> permission -> route matrix from the running configuration. */
#ifndef RESOURCE_DEMO_INFO_H
#define RESOURCE_DEMO_INFO_H

#include <event2/http.h>

#include "route_config.h"

/* Sends 200 {"routes":[{"method","path","permission"},...]} in the order
 * of routes.json (the built-in public routes are not listed: they need no
 * permission). Returns the status sent, for the access log. */
int demo_info_reply(struct evhttp_request *req, const struct route_config *c);

#endif
