/* routes: the resource service's HTTP side for one worker. Every request
 * goes through one generic callback: pick up a new key set or route table
 * from the mailboxes, dispatch over the table (404 / 405 with Allow from
 * http_dispatch), answer, and write one access-log line. */
#ifndef RESOURCE_ROUTES_H
#define RESOURCE_ROUTES_H

#include <event2/http.h>
#include <stdbool.h>

#include "err.h"
#include "guard.h"
#include "key_source.h"
#include "mailbox.h"
#include "route_config.h"
#include "static_files.h"

#define ROUTES_MAX_BODY (16L * 1024) /* no route here reads a body */
#define ROUTES_FORWARD_AUTH_PATH "/auth"

struct forward_auth_peers;

struct routes_worker;

/* On success takes the guard and one reference to config; on failure
 * both stay the caller's. */
struct routes_worker *routes_worker_new(struct guard *guard,
    struct route_config *config, bool access_log, struct err *e);
void routes_worker_free(struct routes_worker *w);

/* Mailboxes the control thread posts to: key sets (struct jwks *) and
 * route tables (struct route_config *). */
struct mailbox *routes_worker_keys(struct routes_worker *w);
struct mailbox *routes_worker_configs(struct routes_worker *w);

/* Routes every method of http through the worker (so libevent never
 * answers 501 itself) and bounds header and body sizes. */
void routes_worker_install(
    struct routes_worker *w, struct evhttp *http, size_t max_header_size);

/* JWKS mode: a token naming a kid the key set lacks waits (at most
 * max_wait_ms) for the key source's next fetch instead of a 401 at once
 * (kid_wait.h). Before key_source_start. */
int routes_worker_wait_keys(struct routes_worker *w, struct event_base *base,
    struct key_source *ks, int64_t max_wait_ms, struct err *e);

/* Periodic housekeeping on the worker's own thread: drops expired
 * tokens from its cache. */
void routes_worker_sweep(struct routes_worker *w);

/* Loads routes.json beside this service's built-in routes (GET /health,
 * GET /openapi.json, and the forward-auth endpoint at forward_auth_path,
 * none if ""; the string outlives the table). */
int routes_load_config(const char *path, const char *forward_auth_path,
    struct route_config **out, struct err *e);

/* Process-wide, set once before the workers start: the CORS origin ("" =
 * off), the OpenAPI file set (NULL: /openapi.json answers 404) and the
 * peers besides loopback that may call the forward-auth endpoint (NULL:
 * loopback only). All outlive the workers. */
void routes_set_shared(const char *cors_origin, struct static_files *openapi,
    const struct forward_auth_peers *peers);

/* Mailbox release functions for the two kinds of object. */
void routes_release_keys(void *item);
void routes_release_config(void *item);

#endif
