/* routes: /login, /refresh, /logout, /.well-known/jwks.json, the OAuth
 * metadata, /health, /demo and /openapi.json: parse, one call, reply; the
 * route table (the OAuth endpoints' handlers are oauth_routes.c's). */
#include "routes.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>

#include "auth_metrics.h"
#include "demo_info.h"
#include "http_util.h"
#include "json_util.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "oauth_metadata.h"
#include "oauth_routes.h"
#include "registration.h"
#include "route_track.h"
#include "session.h"

/* The token response; RFC 6749 5.1: never cached. */
static void
reply_tokens(struct evhttp_request *req, const struct token_pair *pair)
{
	struct json_object *reply = token_pair_to_json(pair);
	struct err e = { 0 };

	if (reply == NULL) {
		err_set(&e, ERR_NOMEM, "token reply");
		http_reply_error(req, &e);
		return;
	}
	http_reply_json(req, HTTP_OK, reply, HTTP_NO_STORE);
}

/* A request whose use case finishes later, on the loop. */
struct pending {
	struct auth_ctx *ctx;
	struct evhttp_request *req;
	const char *route;
	struct request_log log; /* kept from the dispatch (route_log_keep) */
};

static struct pending *
pending_new(struct auth_ctx *ctx, struct evhttp_request *req, struct err *e)
{
	struct pending *p = malloc(sizeof(*p));

	if (p == NULL) {
		err_set(e, ERR_NOMEM, "request");
		return NULL;
	}
	*p = (struct pending){ .ctx = ctx, .req = req };
	route_log_keep(&p->log, &p->route);
	return p;
}

/* The use case refused at once: the dispatch logs the request. */
static void
pending_cancel(struct pending *p)
{
	if (p != NULL)
		route_log_return();
	free(p);
}

/* After the late reply: its access line and counts; p is freed. */
static void
pending_done(struct pending *p)
{
	route_log_done(p->ctx, &p->log, p->route, http_reply_status());
	free(p);
}

/* Login and refresh end here: the tokens, or the refusal. */
static void
tokens_replied(
    const struct token_pair *pair, const struct session_refusal *r, void *arg)
{
	struct pending *p = arg;

	route_untrack_if_orphaned(p->req, p->ctx);
	http_reply_status_reset();
	if (r != NULL)
		route_reply_refusal(p->req, r);
	else
		reply_tokens(p->req, pair);
	pending_done(p);
}

/* Logout ends here. */
static void
logout_replied(
    const struct token_pair *pair, const struct session_refusal *r, void *arg)
{
	struct pending *p = arg;
	struct json_object *reply;

	(void)pair;
	route_untrack_if_orphaned(p->req, p->ctx);
	http_reply_status_reset();
	if (r != NULL) {
		route_reply_refusal(p->req, r);
	} else {
		if ((reply = json_object_new_object()) != NULL)
			json_add_string(reply, "status", "ok");
		http_reply_json(p->req, HTTP_OK, reply, HTTP_NO_STORE);
	}
	pending_done(p);
}

/* POST /login {"username","password"}: session_login; answered from
 * tokens_replied once the password has been checked on a worker. */
static void
route_login(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct json_object *body = NULL;
	struct pending *p = NULL;
	struct session_refusal r = { 0 };
	char addr[SESSION_ADDR_MAX];
	const char *name, *pw;
	size_t name_len, pw_len;

	route_track(req, ctx);
	route_log_client(req, addr, sizeof(addr));
	if (http_read_json(req, (size_t)ctx->cfg->max_body, &body, &r.e) ==
	        -1 ||
	    json_get_string(body, "username", &name, &name_len, &r.e) == -1 ||
	    json_get_string(body, "password", &pw, &pw_len, &r.e) == -1 ||
	    (p = pending_new(ctx, req, &r.e)) == NULL ||
	    session_login(ctx, NULL, name, name_len, pw, pw_len, addr,
	        tokens_replied, p, &r) == -1) {
		pending_cancel(p);
		route_reply_refusal(req, &r);
	}
	json_object_put(body);
}

/* Registration ends here: 201 with the new user's name and sub. */
static void
registered(
    const struct store_user *u, const struct session_refusal *r, void *arg)
{
	struct pending *p = arg;
	struct json_object *reply;

	route_untrack_if_orphaned(p->req, p->ctx);
	http_reply_status_reset();
	if (r != NULL) {
		route_reply_refusal(p->req, r);
	} else {
		if ((reply = json_object_new_object()) != NULL) {
			json_add_string(reply, "username", u->username);
			json_add_string(reply, "sub", u->sub);
		}
		http_reply_json(p->req, 201, reply, HTTP_NO_STORE);
	}
	pending_done(p);
}

/* POST /register {"username","password"}: a new user
 * (registration_start), when allow_registration is on; 404 otherwise. */
static void
route_register(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct json_object *body = NULL;
	struct pending *p = NULL;
	struct session_refusal r = { 0 };
	char addr[SESSION_ADDR_MAX];
	const char *name, *pw;
	size_t name_len, pw_len;

	route_track(req, ctx);
	route_log_client(req, addr, sizeof(addr));
	if (!ctx->cfg->allow_registration) {
		err_set(&r.e, ERR_NOT_FOUND, "registration is off");
		route_reply_refusal(req, &r);
		return;
	}
	if (http_read_json(req, (size_t)ctx->cfg->max_body, &body, &r.e) ==
	        -1 ||
	    json_get_string(body, "username", &name, &name_len, &r.e) == -1 ||
	    json_get_string(body, "password", &pw, &pw_len, &r.e) == -1 ||
	    (p = pending_new(ctx, req, &r.e)) == NULL ||
	    registration_start(ctx, name, name_len, pw, pw_len, addr,
	        registered, p, &r) == -1) {
		pending_cancel(p);
		route_reply_refusal(req, &r);
	}
	json_object_put(body);
}

/* A use case that takes a refresh token (session_refresh, session_logout). */
typedef int (*refresh_token_use)(struct auth_ctx *ctx, const char *token,
    size_t len, const char *addr, session_done done, void *arg,
    struct session_refusal *r);

/* A body {"refresh_token"} handed to one use case; done replies. */
static void
route_refresh_token(struct evhttp_request *req, struct auth_ctx *ctx,
    refresh_token_use use, session_done done)
{
	struct json_object *body = NULL;
	struct pending *p = NULL;
	struct session_refusal r = { 0 };
	char addr[SESSION_ADDR_MAX];
	const char *tok;
	size_t len;

	route_track(req, ctx);
	route_log_client(req, addr, sizeof(addr));
	if (http_read_json(req, (size_t)ctx->cfg->max_body, &body, &r.e) ==
	        -1 ||
	    json_get_string(body, "refresh_token", &tok, &len, &r.e) == -1 ||
	    (p = pending_new(ctx, req, &r.e)) == NULL ||
	    use(ctx, tok, len, addr, done, p, &r) == -1) {
		pending_cancel(p);
		route_reply_refusal(req, &r);
	}
	json_object_put(body);
}

/* The JSON /refresh speaks for the configured client_id. */
static int
json_refresh(struct auth_ctx *ctx, const char *token, size_t len,
    const char *addr, session_done done, void *arg, struct session_refusal *r)
{
	return session_refresh(ctx, NULL, token, len, addr, done, arg, r);
}

/* POST /refresh {"refresh_token"}: a new pair (session_refresh). */
static void
route_refresh(struct evhttp_request *req, void *arg)
{
	route_refresh_token(req, arg, json_refresh, tokens_replied);
}

/* POST /logout {"refresh_token"}: the family revoked (session_logout). */
static void
route_logout(struct evhttp_request *req, void *arg)
{
	route_refresh_token(req, arg, session_logout, logout_replied);
}

/* GET /.well-known/jwks.json: every key that verifies (RFC 7517 5);
 * cacheable, so verifiers need not ask per token. */
static void
route_jwks(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	char cc[64];

	route_track(req, ctx);
	snprintf(cc, sizeof(cc), "public, max-age=%lld",
	    (long long)ctx->cfg->jwks_max_age);
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Cache-Control", cc);
	http_reply_json(req, HTTP_OK, json_object_get(ctx->jwks_json), 0);
}

/* GET /.well-known/oauth-authorization-server (RFC 8414 3): the
 * metadata, every URL under the issuer the tokens name. */
static void
route_metadata(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct json_object *o =
	    oauth_metadata(ctx->issuer_url, ctx->cfg->allow_password_grant);
	struct err e = { 0 };
	char cc[64];

	route_track(req, ctx);
	if (o == NULL) {
		err_set(&e, ERR_NOMEM, "metadata");
		http_reply_error(req, &e);
		return;
	}
	snprintf(cc, sizeof(cc), "public, max-age=%lld",
	    (long long)ctx->cfg->jwks_max_age);
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Cache-Control", cc);
	http_reply_json(req, HTTP_OK, o, 0);
}

/* Ready: the database answered the last work and probes (read and
 * write), a key signs, and no shutdown is under way. Never a database
 * round trip here: the answer comes from the store pool's record. */
static bool
ready_state(struct auth_ctx *ctx, struct store_health *h)
{
	store_pool_health(ctx->db, h);
	return h->reachable && h->writable && ctx->keys != NULL &&
	       ctx->keys->n > 0 && !ctx->draining;
}

/* GET /health and /health/ready: readiness, with what it is made of. */
static void
route_health(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct json_object *o = json_object_new_object();
	struct store_health h;
	bool ready = ready_state(ctx, &h);

	route_track(req, ctx);
	if (o != NULL) {
		json_add_string(o, "status",
		    ready           ? "ok"
		    : ctx->draining ? "stopping"
		                    : "unavailable");
		json_add_string(
		    o, "database", h.reachable && h.writable ? "ok" : "error");
		json_object_object_add(o, "database_writable",
		    json_object_new_boolean(h.reachable && h.writable));
		json_object_object_add(o, "keys",
		    json_object_new_int64(
		        ctx->keys != NULL ? (int64_t)ctx->keys->n : 0));
		json_object_object_add(o, "hash_threads",
		    json_object_new_int(password_pool_threads(ctx->pool)));
		json_object_object_add(o, "hash_busy",
		    json_object_new_int64(
		        (int64_t)password_pool_busy(ctx->pool)));
		json_object_object_add(o, "db_threads",
		    json_object_new_int(store_pool_threads(ctx->db)));
		json_object_object_add(o, "db_busy",
		    json_object_new_int64((int64_t)store_pool_busy(ctx->db)));
	}
	http_reply_json(req, ready ? HTTP_OK : 503, o, HTTP_NO_STORE);
}

/* GET /health/live: the process answers; nothing else is asked. */
static void
route_live(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct json_object *o = json_object_new_object();

	route_track(req, ctx);
	if (o != NULL)
		json_add_string(o, "status", "ok");
	http_reply_json(req, HTTP_OK, o, HTTP_NO_STORE);
}

/* GET /demo...: the teaching page, from an allow-list (static_files.h). */
static void
route_demo(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;

	route_track(req, ctx);
	static_files_handler(req, ctx->demo);
}

/* GET /openapi.json: this service's OpenAPI 3 description. */
static void
route_openapi(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;

	route_track(req, ctx);
	static_files_handler(req, ctx->openapi);
}

/* GET /metrics: the Prometheus text exposition (0.0.4). */
static void
route_metrics(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	struct evbuffer *b = evbuffer_new();
	struct err e = { 0 };
	/* On the loop, which owns both pools' counts. */
	struct auth_metrics_gauges g = {
		.keys = ctx->keys != NULL ? (int64_t)ctx->keys->n : 0,
		.hash_queue = ctx->pool != NULL
		                  ? (int64_t)password_pool_busy(ctx->pool)
		                  : 0,
		.hash_queue_max = ctx->cfg->hash_queue,
		.db_queue =
		    ctx->db != NULL ? (int64_t)store_pool_busy(ctx->db) : 0,
		.db_queue_max = ctx->cfg->db_queue,
	};

	route_track(req, ctx);
	if (b == NULL || auth_metrics_render(&g, b) == -1) {
		evbuffer_free(b);
		err_set(&e, ERR_NOMEM, "metrics");
		http_reply_error(req, &e);
		return;
	}
	listener_metrics_render(b);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", METRICS_CONTENT_TYPE);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	http_send_framed(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

static const struct route auth_metrics_routes[] = {
	{ EVHTTP_REQ_GET, "/metrics", route_metrics },
};

static const struct route auth_routes[] = {
	{ EVHTTP_REQ_POST, "/login", route_login },
	{ EVHTTP_REQ_POST, "/refresh", route_refresh },
	{ EVHTTP_REQ_POST, "/logout", route_logout },
	{ EVHTTP_REQ_POST, "/register", route_register },
	{ EVHTTP_REQ_POST, "/token", oauth_route_token },
	{ EVHTTP_REQ_POST, "/revoke", oauth_route_revoke },
	{ EVHTTP_REQ_POST, "/introspect", oauth_route_introspect },
	{ EVHTTP_REQ_GET, "/.well-known/jwks.json", route_jwks },
	{ EVHTTP_REQ_GET, "/.well-known/oauth-authorization-server",
	    route_metadata },
	{ EVHTTP_REQ_GET, "/health", route_health },
	{ EVHTTP_REQ_GET, "/health/ready", route_health },
	{ EVHTTP_REQ_GET, "/health/live", route_live },
	{ EVHTTP_REQ_GET, "/demo", route_demo },
	{ EVHTTP_REQ_GET, "/demo/", route_demo },
	{ EVHTTP_REQ_GET, "/demo/demo.css", route_demo },
	{ EVHTTP_REQ_GET, "/demo/demo.js", route_demo },
	{ EVHTTP_REQ_GET, "/demo/info.json", demo_info_route },
	{ EVHTTP_REQ_GET, "/openapi.json", route_openapi },
	{ EVHTTP_REQ_GET, "/metrics", route_metrics }, /* the last */
};

#define AUTH_N_ROUTES (sizeof(auth_routes) / sizeof(auth_routes[0]))

/* Headers are bounded by max_headers in http_request_check, with a JSON
 * answer; libevent's own limit is set higher (http_set_header_limit). */
static void
dispatch(struct evhttp_request *req, struct auth_ctx *ctx,
    const struct route *table, size_t n)
{
	struct request_log rl;

	request_log_begin(&rl, req);
	route_log_open(&rl);
	http_dispatch(req, table, n, (size_t)ctx->cfg->max_headers, ctx);
	/* Answered now (a status was sent), or later by a handler that
	 * kept the record; one answering later without it goes unlogged
	 * rather than logged with no status. */
	if (!route_log_close() && http_reply_status() != 0)
		route_log_done(
		    ctx, &rl, http_route_matched(), http_reply_status());
}

/* The main listener: every route; /metrics unless it has a listener of
 * its own or is off. */
static void
auth_dispatch(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;
	bool metrics_here =
	    ctx->cfg->metrics && ctx->cfg->metrics_bind[0] == '\0';

	dispatch(req, ctx, auth_routes, AUTH_N_ROUTES - !metrics_here);
}

static void
metrics_dispatch(struct evhttp_request *req, void *arg)
{
	dispatch(req, arg, auth_metrics_routes, 1);
}

void
routes_install(struct evhttp *http, struct auth_ctx *ctx)
{
	http_set_realm("auth_service");
	http_serve(http, auth_dispatch, ctx);
}

void
routes_install_metrics(struct evhttp *http, struct auth_ctx *ctx)
{
	http_serve(http, metrics_dispatch, ctx);
}
