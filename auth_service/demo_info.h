/* demo_info: GET /demo/info.json, what the teaching page needs to know of
 * the running configuration: the resource service's origin it may call
 * (demo_resource_origin) and the role -> permission map of
 * permissions.json, read-only. */
#ifndef AUTH_DEMO_INFO_H
#define AUTH_DEMO_INFO_H

#include <event2/http.h>

/* An http_util route handler; arg is the struct auth_ctx. 404 when the
 * demo is off (demo_dir ""), like /demo itself. */
void demo_info_route(struct evhttp_request *req, void *arg);

#endif
