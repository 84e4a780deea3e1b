/* routes: handlers of the resource service. The handler of a protected
 * route asks the guard, then answers with the route's JSON; it never looks
 * at the token itself. */
#include "routes.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cors.h"
#include "http_util.h"
#include "jwks.h"
#include "log.h"
#include "metrics.h"
#include "request_log.h"
#include "resource_metrics.h"

/* A string literal into an evbuffer, its length counted by the compiler. */
#define ROUTES_ADD_LITERAL(buf, lit) evbuffer_add((buf), (lit), sizeof(lit) - 1)

#define ROUTES_PATH_MAX 1024
#define ROUTES_SUB_MAX 256

/* What the access log needs, recorded while the request is handled:
 * handlers run to completion, so one per worker suffices. */
struct routes_request {
	char path[ROUTES_PATH_MAX];
	bool path_ok;
	int status;                   /* 0: a reply sent by http_route itself */
	enum err_code error;          /* ERR_OK on success */
	char sub[ROUTES_SUB_MAX + 1]; /* NUL-terminated */
	size_t sub_len;
	bool has_sub;
	struct request_log log;
};

struct routes_worker {
	struct guard *guard;
	struct route_config *config; /* owned reference */
	struct mailbox keys;
	struct mailbox configs;
	bool access_log;
	size_t max_header_size;
	struct routes_request cur;
};

void
routes_release_keys(void *item)
{
	jwks_free(item);
}

void
routes_release_config(void *item)
{
	route_config_free(item);
}

static struct cors_policy routes_cors;
static struct static_files *routes_openapi_files;
static bool routes_metrics_here = true;

void
routes_set_metrics(bool on_main_listener)
{
	routes_metrics_here = on_main_listener;
}

void
routes_set_shared(const char *cors_origin, struct static_files *openapi)
{
	routes_cors.origin = cors_origin;
	routes_openapi_files = openapi;
}

static void routes_health(struct evhttp_request *req, void *arg);
static void routes_live(struct evhttp_request *req, void *arg);
static void routes_openapi(struct evhttp_request *req, void *arg);
static void routes_metrics(struct evhttp_request *req, void *arg);
static void routes_guarded(struct evhttp_request *req, void *arg);

static const struct route routes_builtin[] = {
	{ EVHTTP_REQ_GET, "/health", routes_health },
	{ EVHTTP_REQ_GET, "/health/ready", routes_health },
	{ EVHTTP_REQ_GET, "/health/live", routes_live },
	{ EVHTTP_REQ_GET, "/openapi.json", routes_openapi },
	{ EVHTTP_REQ_GET, "/metrics", routes_metrics }, /* the last */
};

#define ROUTES_N_BUILTIN (sizeof(routes_builtin) / sizeof(*routes_builtin))

/* The answers of the demo routes (SPEC); any other configured route
 * answers with a generic message naming the permission it checked. */
static const struct {
	enum evhttp_cmd_type method;
	const char *path;
	const char *message;
} routes_messages[] = {
	{ EVHTTP_REQ_GET, "/protected", "access to protected data granted" },
	{ EVHTTP_REQ_GET, "/admin", "welcome to the admin panel" },
	{ EVHTTP_REQ_DELETE, "/admin/users", "user deletion authorized" },
};

int
routes_load_config(const char *path, struct route_config **out, struct err *e)
{
	return route_config_load(path, routes_builtin,
	    ROUTES_N_BUILTIN - !routes_metrics_here, routes_guarded, out, e);
}

struct routes_worker *
routes_worker_new(struct guard *guard, struct route_config *config,
    bool access_log, struct err *e)
{
	struct routes_worker *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		err_set(e, ERR_NOMEM, "worker");
		return NULL;
	}
	mailbox_init(&w->keys, routes_release_keys);
	mailbox_init(&w->configs, routes_release_config);
	w->guard = guard;
	w->config = config;
	w->access_log = access_log;
	return w;
}

void
routes_worker_free(struct routes_worker *w)
{
	if (w == NULL)
		return;
	mailbox_drain(&w->keys);
	mailbox_drain(&w->configs);
	route_config_free(w->config);
	guard_free(w->guard);
	free(w);
}

void
routes_worker_sweep(struct routes_worker *w)
{
	guard_sweep(w->guard);
}

struct mailbox *
routes_worker_keys(struct routes_worker *w)
{
	return &w->keys;
}

struct mailbox *
routes_worker_configs(struct routes_worker *w)
{
	return &w->configs;
}

/* Appends s[0..len) as a JSON string (RFC 8259 section 7): quote,
 * backslash and control bytes escaped, everything else copied. The claims
 * came through the strict parser, so they are valid UTF-8 already. The
 * success bodies are written this way rather than through json-c because
 * they are on the hot path of every granted request. */
static void
put_string(struct evbuffer *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t from = 0;

	ROUTES_ADD_LITERAL(b, "\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		evbuffer_add(b, s + from, i - from);
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			evbuffer_add(b, esc, 2);
		} else {
			evbuffer_add(b, esc, sizeof(esc));
		}
		from = i + 1;
	}
	evbuffer_add(b, s + from, len - from);
	ROUTES_ADD_LITERAL(b, "\"");
}

static void
put_string_array(struct evbuffer *b, const struct verify_str *v, size_t n)
{
	ROUTES_ADD_LITERAL(b, "[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			ROUTES_ADD_LITERAL(b, ",");
		put_string(b, v[i].s, v[i].len);
	}
	ROUTES_ADD_LITERAL(b, "]");
}

/* 200 with the route's JSON: "user" is the username claim when the issuer
 * sent one, else sub. The headers are those of http_reply_json(). */
static void
reply_granted(struct evhttp_request *req, const struct route_rule *rule,
    const struct access_token *t)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const struct verify_str *user =
	    t->username.s != NULL ? &t->username : &t->sub;
	const char *message = "access granted";
	bool is_protected = false;
	struct evbuffer *b;

	for (size_t i = 0;
	     i < sizeof(routes_messages) / sizeof(*routes_messages); i++) {
		if (routes_messages[i].method == rule->method &&
		    strcmp(routes_messages[i].path, rule->path) == 0) {
			message = routes_messages[i].message;
			is_protected = i == 0;
		}
	}
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	ROUTES_ADD_LITERAL(b, "{\"message\":");
	put_string(b, message, strlen(message));
	ROUTES_ADD_LITERAL(b, ",\"user\":");
	put_string(b, user->s, user->len);
	if (is_protected) {
		ROUTES_ADD_LITERAL(b, ",\"roles\":");
		put_string_array(b, t->roles, t->n_roles);
		ROUTES_ADD_LITERAL(b, ",\"permissions\":");
		put_string_array(b, t->permissions, t->n_permissions);
		ROUTES_ADD_LITERAL(b, ",\"data\":[1,2,3,4,5]}\n");
	} else {
		ROUTES_ADD_LITERAL(b, ",\"permission\":");
		put_string(b, rule->permission, rule->permission_len);
		ROUTES_ADD_LITERAL(b, "}\n");
	}
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	http_send_framed(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

static void
note_sub(struct routes_worker *w, const struct access_token *t)
{
	size_t n = t->sub.len < ROUTES_SUB_MAX ? t->sub.len : ROUTES_SUB_MAX;

	memcpy(w->cur.sub, t->sub.s, n);
	w->cur.sub[n] = '\0';
	w->cur.sub_len = n;
	w->cur.has_sub = true;
}

/* Every protected route: the guard decides, the reply follows the SPEC's
 * forms: 401 (RFC 6750 3.1 invalid_token, or a bare challenge when no
 * credentials came), 400 invalid_request, 403 insufficient_scope naming
 * the permission, 503 while no key set is loaded. */
static void
routes_guarded(struct evhttp_request *req, void *arg)
{
	struct routes_worker *w = arg;
	struct guard_result r = { 0 };
	const struct route_rule *rule;
	struct err e = { 0 };

	rule = route_config_find(
	    w->config, evhttp_request_get_command(req), w->cur.path);
	if (rule == NULL) {
		/* Dispatched here only through a rule of this table. */
		err_set(&e, ERR_INTERNAL, "no rule for a dispatched route");
		goto fail;
	}
	if (guard_check_request(w->guard, req, rule->permission,
	        rule->permission_len, &r, &e) == -1)
		goto fail;
	resource_metrics_verified(ERR_OK, request_log_elapsed_us(&w->cur.log));
	note_sub(w, r.token);
	reply_granted(req, rule, r.token);
	w->cur.status = HTTP_OK;
	goto out;
fail:
	if (rule != NULL)
		resource_metrics_verified(
		    e.code, request_log_elapsed_us(&w->cur.log));
	if (r.token != NULL)
		note_sub(w, r.token);
	w->cur.error = e.code;
	w->cur.status = http_status_for(e.code);
	if (e.code == ERR_INSUFFICIENT_SCOPE) {
		log_msg(LOG_INFO, "403 %s: %s", rule->path, e.msg);
		http_reply_insufficient_scope(req, rule->permission);
	} else if (e.code == ERR_UNAVAILABLE) {
		http_reply_error_retry(req, &e, 5);
	} else {
		http_reply_error(req, &e);
	}
out:
	guard_result_release(&r);
	metrics_set_mine(
	    RES_M_CACHE_ENTRIES, (int64_t)guard_cache_count(w->guard));
}

/* GET /health: public. 503 until a key set is loaded, since nothing could
 * be verified before (SPEC: 503 when not ready). */
static void
routes_health(struct evhttp_request *req, void *arg)
{
	struct routes_worker *w = arg;
	struct json_object *body = json_object_new_object();
	size_t keys = guard_key_count(w->guard);

	if (body == NULL) {
		w->cur.status = 500;
		evhttp_send_error(req, 500, NULL);
		return;
	}
	json_object_object_add(body, "status",
	    json_object_new_string(keys > 0 ? "ok" : "unavailable"));
	json_object_object_add(
	    body, "keys", json_object_new_int64((int64_t)keys));
	w->cur.status = keys > 0 ? HTTP_OK : 503;
	if (keys == 0) {
		w->cur.error = ERR_UNAVAILABLE;
		evhttp_add_header(
		    evhttp_request_get_output_headers(req), "Retry-After", "5");
	}
	http_reply_json(req, w->cur.status, body, HTTP_NO_STORE);
}

/* GET /health/live: the worker answers; nothing else is asked. */
static void
routes_live(struct evhttp_request *req, void *arg)
{
	struct routes_worker *w = arg;
	struct json_object *body = json_object_new_object();

	if (body != NULL)
		json_object_object_add(
		    body, "status", json_object_new_string("ok"));
	w->cur.status = HTTP_OK;
	http_reply_json(req, HTTP_OK, body, HTTP_NO_STORE);
}

/* The Prometheus exposition, summed over every worker; the status. */
static int
send_metrics(struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();
	struct err e = { 0 };

	if (b == NULL || metrics_render(b) == -1) {
		evbuffer_free(b);
		err_set(&e, ERR_NOMEM, "metrics");
		http_reply_error(req, &e);
		return http_status_for(e.code);
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", METRICS_CONTENT_TYPE);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	http_send_framed(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
	return HTTP_OK;
}

/* GET /metrics on the main listener. */
static void
routes_metrics(struct evhttp_request *req, void *arg)
{
	struct routes_worker *w = arg;

	w->cur.status = send_metrics(req);
	if (w->cur.status != HTTP_OK)
		w->cur.error = ERR_NOMEM;
}

static void
metrics_only(struct evhttp_request *req, void *arg)
{
	(void)arg;
	send_metrics(req);
}

void
routes_metrics_request(struct evhttp_request *req, void *arg)
{
	static const struct route table[] = {
		{ EVHTTP_REQ_GET, "/metrics", metrics_only },
	};
	const bool *access_log = arg;
	struct request_log rl;
	struct err e = { 0 };

	request_log_begin(&rl, req);
	http_reply_status_reset();
	if (http_request_check(req, 0, &e) == -1)
		http_reply_bad_framing(req, &e);
	else
		http_route(req, table, 1, NULL);
	metrics_http(http_route_matched(), http_reply_status());
	if (*access_log)
		request_log_write(&rl, http_route_matched(),
		    http_reply_status(), request_log_elapsed_us(&rl), NULL, 0);
}

/* GET /openapi.json: public, like /health. */
static void
routes_openapi(struct evhttp_request *req, void *arg)
{
	struct routes_worker *w = arg;

	if (static_files_serve(routes_openapi_files, req) == 0) {
		w->cur.status = HTTP_OK;
		return;
	}
	w->cur.error = ERR_NOT_FOUND;
	w->cur.status = 404;
	static_files_handler(req, NULL);
}

/* New objects from the control thread, taken between requests so a
 * request never sees a table or key set change under it. */
static void
take_updates(struct routes_worker *w)
{
	struct route_config *c = mailbox_take(&w->configs);
	struct jwks *k = mailbox_take(&w->keys);

	if (c != NULL) {
		route_config_free(w->config);
		w->config = c;
	}
	if (k != NULL)
		guard_set_keys(w->guard, k);
}

/* The answer http_route sent when no handler ran. */
static enum err_code
dispatch_error(const struct routes_worker *w)
{
	if (!w->cur.path_ok)
		return ERR_INVALID_REQUEST;
	for (size_t i = 0; i < w->config->n_table; i++)
		if (strcmp(w->config->table[i].path, w->cur.path) == 0)
			return ERR_METHOD;
	return ERR_NOT_FOUND;
}

/* The access line: the common fields, then the subject and the error
 * code (never the token). */
static void
access_log(struct routes_worker *w, const char *route, int64_t latency_us)
{
	struct log_field extra[2] = {
		{ .key = "sub" },
		{ .key = "error" },
	};

	if (w->cur.has_sub) {
		extra[0].str = w->cur.sub;
		extra[0].len = w->cur.sub_len;
	}
	if (w->cur.error != ERR_OK)
		extra[1].str = err_code_name(w->cur.error);
	request_log_write(
	    &w->cur.log, route, w->cur.status, latency_us, extra, 2);
}

static void
routes_request_cb(struct evhttp_request *req, void *arg)
{
	struct routes_worker *w = arg;
	const char *route = NULL;
	struct err e = { 0 };

	request_log_begin(&w->cur.log, req);
	take_updates(w);
	w->cur.status = 0;
	w->cur.error = ERR_OK;
	w->cur.has_sub = false;
	w->cur.path_ok =
	    http_request_path(req, w->cur.path, sizeof(w->cur.path)) == 0;
	/* A preflight from the demo's origin is answered here; any other
	 * request gets its CORS headers now and is dispatched. */
	if (http_request_check(req, w->max_header_size, &e) == -1) {
		http_reply_bad_framing(req, &e);
		w->cur.error = e.code;
		w->cur.status = http_status_for(e.code);
	} else if (cors_handle(&routes_cors, req)) {
		w->cur.status = HTTP_NO_CONTENT;
	} else {
		http_route(req, w->config->table, w->config->n_table, w);
		route = http_route_matched();
	}
	/* The reply is queued: req may be gone, use only what was noted. */
	if (w->cur.status == 0) {
		w->cur.error = dispatch_error(w);
		w->cur.status = http_status_for(w->cur.error);
	}
	metrics_http(route, w->cur.status);
	if (w->access_log)
		access_log(w, route, request_log_elapsed_us(&w->cur.log));
}

void
routes_worker_install(
    struct routes_worker *w, struct evhttp *http, size_t max_header_size)
{
	w->max_header_size = max_header_size;
	http_set_header_limit(http, max_header_size);
	evhttp_set_max_body_size(http, ROUTES_MAX_BODY);
	http_serve(http, routes_request_cb, w);
}
