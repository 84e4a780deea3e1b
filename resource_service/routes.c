/* routes: handlers of the resource service. A request is dispatched to a
 * built-in route by exact path, else to the most specific routes.json rule
 * (route_config_match); the handler of a rule asks the guard, then answers
 * with the route's JSON; it never looks at the token itself. The
 * forward-auth endpoint decides for a proxy with the same lookup and the
 * same guard_decide, and answers with the same refusals. In JWKS mode a
 * decision that meets an unknown kid, on either path, is held in kid_wait
 * and dispatched again after the next fetch. */
#include "routes.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cors.h"
#include "demo_info.h"
#include "forward_auth.h"
#include "http_util.h"
#include "jwks.h"
#include "kid_wait.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "request_log.h"
#include "resource_metrics.h"

/* A string literal into an evbuffer, its length counted by the compiler. */
#define ROUTES_ADD_LITERAL(buf, lit) evbuffer_add((buf), (lit), sizeof(lit) - 1)

#define ROUTES_PATH_MAX 1024
#define ROUTES_SUB_MAX 256
#define ROUTES_TARGET_MAX 512
#define ROUTES_HELD (-1) /* cur.status: the request waits for keys */

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
	/* The forward-auth endpoint's "METHOD target", as forwarded. */
	char target[ROUTES_TARGET_MAX];
	bool has_target;
	const char *route;      /* the table path or rule matched; NULL: none */
	struct request_log log; /* id, client, start (request_log.h) */
};

struct routes_worker {
	struct guard *guard;
	struct route_config *config; /* owned reference */
	struct mailbox keys;
	struct mailbox configs;
	bool access_log;
	size_t max_header_size;
	struct routes_request cur;
	struct timespec t0;        /* the current request's start */
	struct kid_wait *kid_wait; /* JWKS mode: unknown kids wait */
	/* Whether a decision meeting an unknown kid may leave the request
	 * unanswered (cur.status ROUTES_HELD) for the caller to hold. */
	bool may_wait;
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
static const struct forward_auth_peers *routes_peers;
static bool routes_metrics_here = true;

void
routes_set_metrics(bool on_main_listener)
{
	routes_metrics_here = on_main_listener;
}

void
routes_set_shared(const char *cors_origin, struct static_files *openapi,
    const struct forward_auth_peers *peers)
{
	routes_cors.origin = cors_origin;
	routes_openapi_files = openapi;
	routes_peers = peers;
}

static void routes_health(struct evhttp_request *req, void *arg);
static void routes_live(struct evhttp_request *req, void *arg);
static void routes_metrics(struct evhttp_request *req, void *arg);
static void routes_openapi(struct evhttp_request *req, void *arg);
static void routes_forward_auth(struct evhttp_request *req, void *arg);
static void routes_demo_info(struct evhttp_request *req, void *arg);

/* The forward-auth row's path is the one routes_load_config is given. */
static const struct route routes_builtin[] = {
	{ EVHTTP_REQ_GET, "/health", routes_health },
	{ EVHTTP_REQ_GET, "/health/ready", routes_health },
	{ EVHTTP_REQ_GET, "/health/live", routes_live },
	{ EVHTTP_REQ_GET, "/metrics", routes_metrics },
	{ EVHTTP_REQ_GET, "/openapi.json", routes_openapi },
	{ EVHTTP_REQ_GET, "/auth", routes_forward_auth },
	{ EVHTTP_REQ_GET, "/demo/routes.json", routes_demo_info },
};

#define ROUTES_N_BUILTIN (sizeof(routes_builtin) / sizeof(*routes_builtin))

/* The answers of the demo routes (docs/API.md); any other configured
 * route answers with a generic message naming the permission it checked. */
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
routes_load_config(const char *path, const char *forward_auth_path,
    struct route_config **out, struct err *e)
{
	struct route builtin[ROUTES_N_BUILTIN];
	size_t n = 0;

	for (size_t i = 0; i < ROUTES_N_BUILTIN; i++) {
		builtin[n] = routes_builtin[i];
		if (builtin[n].handler == routes_forward_auth) {
			if (forward_auth_path[0] == '\0')
				continue; /* switched off */
			builtin[n].path = forward_auth_path;
		}
		if (builtin[n].handler == routes_metrics &&
		    !routes_metrics_here)
			continue; /* off, or on metrics_bind */
		n++;
	}
	return route_config_load(path, builtin, n, out, e);
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
	kid_wait_free(w->kid_wait);
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
	const struct verify_str *user = NULL;
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
	if (t != NULL) {
		user = t->username.s != NULL ? &t->username : &t->sub;
		put_string(b, user->s, user->len);
	} else {
		ROUTES_ADD_LITERAL(b, "null"); /* a public rule */
	}
	if (t == NULL) {
		ROUTES_ADD_LITERAL(b, "}\n");
	} else if (is_protected) {
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

/* The refusal of a rule's decision, the same for a direct route and for
 * the forward-auth endpoint: 401 (RFC 6750 3.1 invalid_token, or a bare
 * challenge when no credentials came), 400 invalid_request, 403
 * insufficient_scope naming the permissions, 503 while no key set is
 * loaded, 403 access_denied when no rule allows the request. */
static void
reply_refused(struct routes_worker *w, struct evhttp_request *req,
    const struct route_rule *rule, const struct guard_result *r,
    const struct err *e)
{
	if (r != NULL && r->token != NULL)
		note_sub(w, r->token);
	w->cur.error = e->code;
	w->cur.status = http_status_for(e->code);
	if (e->code == ERR_INSUFFICIENT_SCOPE && rule != NULL) {
		log_msg(LOG_INFO, "403 %s: %s", rule->path, e->msg);
		http_reply_insufficient_scope(req, rule->permission);
	} else if (e->code == ERR_UNAVAILABLE) {
		http_reply_error_retry(req, e, 5);
	} else {
		http_reply_error(req, e);
	}
}

/* A token naming a kid the key set lacks, met while the request may
 * wait: nothing is answered, cur.status says ROUTES_HELD and the caller
 * holds the request for the next JWKS fetch (kid_wait.h). */
static bool
wait_for_kid(struct routes_worker *w, const struct err *e)
{
	if (e->code != ERR_TOKEN_KID || !w->may_wait)
		return false;
	w->cur.status = ROUTES_HELD;
	return true;
}

/* A guard decision in the metrics: its result and reason, the time since
 * the request arrived, and this worker's cache size. */
static void
count_decision(struct routes_worker *w, enum err_code code)
{
	resource_metrics_verified(code, request_log_elapsed_us(&w->cur.log));
	metrics_set_mine(
	    RES_M_CACHE_ENTRIES, (int64_t)guard_cache_count(w->guard));
}

/* A request a rule matched: the guard decides; the answer is the rule's
 * JSON (reply_granted) or the refusal every route gives (reply_refused). */
static void
routes_guarded(struct routes_worker *w, struct evhttp_request *req,
    const struct route_rule *rule)
{
	struct guard_result r = { 0 };
	struct err e = { 0 };

	w->cur.route = rule->path;
	if (guard_decide(w->guard, req, evhttp_request_get_uri(req),
	        &rule->need, &r, &e) == -1) {
		if (!wait_for_kid(w, &e)) {
			count_decision(w, e.code);
			reply_refused(w, req, rule, &r, &e);
		}
	} else {
		count_decision(w, ERR_OK);
		if (r.token != NULL)
			note_sub(w, r.token);
		reply_granted(req, rule, r.token);
		w->cur.status = HTTP_OK;
	}
	guard_result_release(&r);
}

/* GET /auth (forward_auth_path): the decision for the request a proxy
 * forwards (X-Original-Method and X-Original-URI, or X-Forwarded-*), made
 * by the rule the same method and path would reach directly. A target no
 * rule allows is refused with 403 (deny by default), since a proxy turns
 * any other status but 401 into an error of its own. */
static void
routes_forward_auth(struct evhttp_request *req, void *arg)
{
	struct routes_worker *w = arg;
	struct forward_auth_target t;
	const struct route_rule *rule = NULL;
	struct guard_result r = { 0 };
	struct err e = { 0 };
	char path[ROUTES_PATH_MAX];

	if (!forward_auth_peer_allowed(routes_peers, req)) {
		err_set(
		    &e, ERR_FORBIDDEN, "forward-auth from an untrusted peer");
		goto fail;
	}
	if (forward_auth_target(req, &t, &e) == -1)
		goto fail;
	/* For the access log: what was decided, cut to a bounded length
	 * (json-c escapes it). */
	snprintf(w->cur.target, sizeof(w->cur.target), "%.16s %s",
	    t.method_name, t.uri);
	w->cur.has_target = true;
	if (!t.method_routable ||
	    http_target_path(t.uri, path, sizeof(path)) == -1 ||
	    (rule = route_config_find(w->config, t.method, path)) == NULL) {
		err_set(&e, ERR_FORBIDDEN, "no rule allows %s %.80s",
		    t.method_routable ? route_config_method_name(t.method)
		                      : "(method)",
		    t.uri);
		goto fail;
	}
	if (guard_decide(w->guard, req, t.uri, &rule->need, &r, &e) == -1) {
		if (wait_for_kid(w, &e))
			goto out;
		count_decision(w, e.code);
		goto fail;
	}
	count_decision(w, ERR_OK);
	if (forward_auth_reply_granted(req, r.token, &e) == -1)
		goto fail;
	if (r.token != NULL)
		note_sub(w, r.token);
	w->cur.status = HTTP_OK;
	goto out;
fail:
	reply_refused(w, req, rule, &r, &e);
out:
	guard_result_release(&r);
}

/* GET /health: public. 503 until a key set is loaded, since nothing could
 * be verified before (a load balancer keeps traffic away meanwhile). */
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
	listener_metrics_render(b);
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

/* GET /demo/routes.json: public, the table this worker dispatches on;
 * only while CORS lets the demo page read it (cors_origin set). */
static void
routes_demo_info(struct evhttp_request *req, void *arg)
{
	struct routes_worker *w = arg;
	struct err e = { 0 };

	if (routes_cors.origin == NULL || routes_cors.origin[0] == '\0') {
		err_set(&e, ERR_NOT_FOUND, "demo routes: cors_origin is off");
		w->cur.error = e.code;
		w->cur.status = http_status_for(e.code);
		http_reply_error(req, &e);
		return;
	}
	w->cur.status = demo_info_reply(req, w->config);
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

/* "GET, HEAD, DELETE" for a 405 (RFC 9110 15.5.6); HEAD comes with GET. */
static void
allow_header(unsigned methods, char *buf, size_t len)
{
	static const enum evhttp_cmd_type order[] = { EVHTTP_REQ_GET,
		EVHTTP_REQ_HEAD, EVHTTP_REQ_POST, EVHTTP_REQ_PUT,
		EVHTTP_REQ_PATCH, EVHTTP_REQ_DELETE, EVHTTP_REQ_OPTIONS };
	size_t o = 0;

	if (methods & EVHTTP_REQ_GET)
		methods |= EVHTTP_REQ_HEAD;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(order) / sizeof(*order); i++) {
		int n;

		if (!(methods & order[i]))
			continue;
		n = snprintf(buf + o, len - o, "%s%s", o > 0 ? ", " : "",
		    route_config_method_name(order[i]));
		if (n < 0 || (size_t)n >= len - o)
			return;
		o += (size_t)n;
	}
}

/* A built-in route by exact path, else the most specific rule; a path
 * some route has under other methods is 405 with Allow, any other 404. */
static void
dispatch(struct routes_worker *w, struct evhttp_request *req)
{
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const struct route_config *c = w->config;
	const struct route_rule *rule;
	unsigned methods = 0, matched = 0;
	struct err e = { 0 };
	char allow[64];

	if (!w->cur.path_ok) {
		err_set(&e, ERR_INVALID_REQUEST, "request target not usable");
		reply_refused(w, req, NULL, NULL, &e);
		return;
	}
	for (size_t i = 0; i < c->n_table; i++) {
		if (strcmp(c->table[i].path, w->cur.path) != 0)
			continue;
		/* HEAD is GET without a body (RFC 9110 9.3.2). */
		w->cur.route = c->table[i].path;
		if (c->table[i].method == method ||
		    (method == EVHTTP_REQ_HEAD &&
		        c->table[i].method == EVHTTP_REQ_GET)) {
			c->table[i].handler(req, w);
			return;
		}
		methods |= (unsigned)c->table[i].method;
	}
	if ((rule = route_config_match(c, method, w->cur.path, &matched)) !=
	    NULL) {
		routes_guarded(w, req, rule);
		return;
	}
	methods |= matched;
	/* A 405 on a rule's pattern is counted under that pattern. */
	for (unsigned bit = 1; matched != 0 && w->cur.route == NULL &&
	                       bit <= (unsigned)EVHTTP_REQ_PATCH;
	     bit <<= 1)
		if ((matched & bit) != 0 &&
		    (rule = route_config_find(
		         c, (enum evhttp_cmd_type)bit, w->cur.path)) != NULL)
			w->cur.route = rule->path;
	if (methods == 0) {
		err_set(&e, ERR_NOT_FOUND, "no route");
	} else {
		allow_header(methods, allow, sizeof(allow));
		evhttp_add_header(
		    evhttp_request_get_output_headers(req), "Allow", allow);
		err_set(&e, ERR_METHOD, "method not allowed");
	}
	reply_refused(w, req, NULL, NULL, &e);
}

/* One access line and the HTTP count per request, once it is answered;
 * the token never appears in it. */
static void
access_log_once(struct routes_worker *w)
{
	struct log_field extra[3] = {
		{ .key = "target" },
		{ .key = "sub" },
		{ .key = "error" },
	};

	metrics_http(w->cur.route, w->cur.status);
	if (!w->access_log)
		return;
	if (w->cur.has_target)
		extra[0].str = w->cur.target;
	if (w->cur.has_sub) {
		extra[1].str = w->cur.sub;
		extra[1].len = w->cur.sub_len;
	}
	if (w->cur.error != ERR_OK)
		extra[2].str = err_code_name(w->cur.error);
	request_log_write(&w->cur.log, w->cur.route, w->cur.status,
	    request_log_elapsed_us(&w->cur.log), extra, 3);
}

static void
cur_reset(struct routes_worker *w)
{
	w->cur.status = 0;
	w->cur.error = ERR_OK;
	w->cur.has_sub = false;
	w->cur.has_target = false;
	w->cur.route = NULL;
}

/* What a held request needs to be decided, answered and logged later. */
struct routes_held {
	struct routes_request cur;
	struct timespec t0;
};

/* Holds req (its decision met an unknown kid) until the key source's
 * next fetch answers for that kid. False: not held (no kid to wait for,
 * a kid refused at once, no memory); the caller decides it now. */
static bool
hold(struct routes_worker *w, struct evhttp_request *req)
{
	struct routes_held *h;
	const char *token;
	char kid[JWK_KID_MAX + 1];
	size_t len, kid_len;
	struct err e = { 0 };

	if (http_bearer_token(req, &token, &len, &e) == -1 ||
	    kid_wait_token_kid(token, len, kid, sizeof(kid), &kid_len) == -1 ||
	    (h = malloc(sizeof(*h))) == NULL)
		return false;
	h->cur = w->cur;
	h->t0 = w->t0;
	if (kid_wait_hold(w->kid_wait, req, kid, kid_len, h) == -1) {
		free(h);
		return false;
	}
	return true;
}

/* kid_wait_retry: the newest keys and routes, then the same dispatch
 * again (a direct route or the forward-auth endpoint alike). */
static bool
held_retry(void *arg, struct evhttp_request *req, void *saved, bool last)
{
	struct routes_worker *w = arg;
	struct routes_held *h = saved;

	take_updates(w);
	w->cur = h->cur;
	cur_reset(w);
	w->may_wait = !last;
	dispatch(w, req);
	w->may_wait = false;
	if (w->cur.status == ROUTES_HELD)
		return false;
	access_log_once(w);
	return true;
}

static void
routes_request_cb(struct evhttp_request *req, void *arg)
{
	struct routes_worker *w = arg;
	struct err e = { 0 };

	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	request_log_begin(&w->cur.log, req);
	take_updates(w);
	cur_reset(w);
	w->may_wait = w->kid_wait != NULL;
	w->cur.path_ok =
	    http_request_path(req, w->cur.path, sizeof(w->cur.path)) == 0;
	/* A preflight from the demo's origin is answered here; any other
	 * request gets its CORS headers now and is dispatched. */
	if (http_request_check(req, w->max_header_size, &e) == -1) {
		http_reply_bad_framing(req, &e);
		w->cur.error = e.code;
		w->cur.status = http_status_for(e.code);
	} else if (cors_handle(&routes_cors, req))
		w->cur.status = HTTP_NO_CONTENT;
	else
		dispatch(w, req);
	w->may_wait = false;
	if (w->cur.status == ROUTES_HELD) {
		if (hold(w, req))
			return; /* logged when answered */
		cur_reset(w);
		dispatch(w, req);
	}
	/* The reply is queued: req may be gone, use only what was noted. */
	access_log_once(w);
}

int
routes_worker_wait_keys(struct routes_worker *w, struct event_base *base,
    struct key_source *ks, int64_t max_wait_ms, struct err *e)
{
	w->kid_wait = kid_wait_new(base, ks, max_wait_ms, held_retry, w, e);
	return w->kid_wait != NULL ? 0 : -1;
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
