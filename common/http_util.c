/* http_util: routing, JSON replies and the one error-code -> HTTP answer
 * table shared by both daemons. */
#include "http_util.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json_util.h"
#include "log.h"

static const char *http_realm = "jwt";

/* What the request log asks after a handler returned: set on the thread
 * that answered (handlers and replies run on one thread per request). */
static __thread const char *http_matched;
static __thread int http_last_status;

#define HTTP_MAX_PROXIES 32

/* One trusted network: an address of family af and the prefix length. */
struct http_cidr {
	int af;
	unsigned char addr[16];
	unsigned bits;
};

static struct http_cidr http_proxies[HTTP_MAX_PROXIES];
static size_t http_n_proxies;

/* One row per error code: what the client sees. The description is fixed
 * text, so nothing internal (SQL, paths, key material) can leak. */
struct http_answer {
	int status;
	const char *error;
	const char *description;
	bool challenge;   /* 401/400 with WWW-Authenticate: Bearer ... */
	bool token_error; /* adds error="<error>" to the challenge */
	bool basic;       /* the challenge is Basic (client authentication) */
};

static const struct http_answer http_answers[ERR_CODE_COUNT] = {
	[ERR_INVALID_REQUEST] = { 400, "invalid_request",
	    "the request is malformed", false, false, false },
	[ERR_PAYLOAD_TOO_LARGE] = { 413, "invalid_request",
	    "the request body is too large", false, false, false },
	[ERR_INVALID_CREDENTIALS] = { 401, "invalid_credentials",
	    "invalid username or password", true, false, false },
	[ERR_INVALID_GRANT] = { 400, "invalid_grant",
	    "the refresh token is invalid, expired or revoked", false, false,
	    false },
	[ERR_THROTTLED] = { 429, "too_many_requests",
	    "too many failed attempts; retry later", false, false, false },
	[ERR_UNAVAILABLE] = { 503, "temporarily_unavailable",
	    "the service is busy or not ready; retry later", false, false,
	    false },
	[ERR_NOT_FOUND] = { 404, "not_found", "no such resource", false, false,
	    false },
	[ERR_METHOD] = { 405, "method_not_allowed",
	    "method not allowed on this resource", false, false, false },
	[ERR_FORBIDDEN] = { 403, "access_denied",
	    "no route allows this request", false, false, false },
	/* RFC 6750 3.1: no error attribute when credentials are missing. */
	[ERR_TOKEN_MISSING] = { 401, "unauthorized",
	    "a Bearer access token is required", true, false, false },
	[ERR_TOKEN_MALFORMED] = { 401, "invalid_token", "malformed token", true,
	    true, false },
	[ERR_TOKEN_ALG] = { 401, "invalid_token",
	    "token algorithm not accepted", true, true, false },
	[ERR_TOKEN_HEADER] = { 401, "invalid_token",
	    "token header not accepted", true, true, false },
	[ERR_TOKEN_KID] = { 401, "invalid_token",
	    "token signed by an unknown key", true, true, false },
	[ERR_TOKEN_SIGNATURE] = { 401, "invalid_token",
	    "token signature is invalid", true, true, false },
	[ERR_TOKEN_EXPIRED] = { 401, "invalid_token", "token expired", true,
	    true, false },
	[ERR_TOKEN_NOT_YET_VALID] = { 401, "invalid_token",
	    "token not yet valid", true, true, false },
	[ERR_TOKEN_ISSUER] = { 401, "invalid_token",
	    "token issuer not accepted", true, true, false },
	[ERR_TOKEN_AUDIENCE] = { 401, "invalid_token",
	    "token audience not accepted", true, true, false },
	[ERR_TOKEN_CLAIMS] = { 401, "invalid_token",
	    "token claims missing or invalid", true, true, false },
	[ERR_BEARER_MALFORMED] = { 400, "invalid_request",
	    "expected one Authorization header: Bearer <token>", true, true,
	    false },
	[ERR_INSUFFICIENT_SCOPE] = { 403, "insufficient_scope",
	    "the token lacks the required permission", true, true, false },
	[ERR_REQUEST_TIMEOUT] = { 408, "request_timeout",
	    "the request was not received in time", false, false, false },
	/* RFC 6749 5.2: 401 with a challenge for the scheme the client may
	 * use, whether or not Basic was tried (every 401 carries one). */
	[ERR_INVALID_CLIENT] = { .status = 401,
	    .error = "invalid_client",
	    .description = "client authentication failed",
	    .challenge = true,
	    .basic = true },
	[ERR_UNAUTHORIZED_CLIENT] = { .status = 400,
	    .error = "unauthorized_client",
	    .description = "the client may not use this grant or token" },
	[ERR_UNSUPPORTED_GRANT_TYPE] = { .status = 400,
	    .error = "unsupported_grant_type",
	    .description = "the grant type is not supported" },
	[ERR_INVALID_SCOPE] = { .status = 400,
	    .error = "invalid_scope",
	    .description = "the scope asks for more than is held" },
	[ERR_UNSUPPORTED_TOKEN_TYPE] = { .status = 400,
	    .error = "unsupported_token_type",
	    .description = "access tokens are not revoked: they expire" },
	[ERR_CONFLICT] = { .status = 409,
	    .error = "conflict",
	    .description = "the name is taken" },
	[ERR_WEAK_PASSWORD] = { .status = 400,
	    .error = "invalid_request",
	    .description = "the password is too short or too common" },
};

static const struct http_answer http_internal = { .status = 500,
	.error = "server_error",
	.description = "internal server error" };

void
http_set_realm(const char *realm)
{
	http_realm = realm;
}

static const struct http_answer *
answer_for(enum err_code code)
{
	if ((unsigned)code < ERR_CODE_COUNT && http_answers[code].status != 0)
		return &http_answers[code];
	return &http_internal;
}

int
http_status_for(enum err_code code)
{
	return answer_for(code)->status;
}

static const char *
reason_for(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	default:
		return status >= 500 ? "Internal Server Error" : "OK";
	}
}

struct event_base *
http_event_base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

void
http_reply_json(
    struct evhttp_request *req, int status, struct json_object *body, int flags)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = evbuffer_new();
	const char *text;

	evhttp_add_header(out, "Content-Type", "application/json");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	if (flags & HTTP_NO_STORE) {
		/* RFC 6749 5.1: token responses must not be cached. */
		evhttp_add_header(out, "Cache-Control", "no-store");
		evhttp_add_header(out, "Pragma", "no-cache");
	}
	if (buf == NULL) {
		evhttp_send_error(req, 500, NULL);
		json_object_put(body);
		return;
	}
	if (body != NULL && status != HTTP_NO_CONTENT) {
		text = json_object_to_json_string_ext(body,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		evbuffer_add(buf, text, strlen(text));
		evbuffer_add(buf, "\n", 1);
	}
	http_send_framed(req, status, reason_for(status), buf);
	evbuffer_free(buf);
	json_object_put(body);
}

void
http_send_framed(struct evhttp_request *req, int status, const char *reason,
    struct evbuffer *buf)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	size_t len = buf != NULL ? evbuffer_get_length(buf) : 0;

	/* libevent frames no reply to CONNECT, as if a tunnel followed; only
	 * a 2xx opens one (RFC 9110 9.3.6), and none is offered here. An
	 * explicit length frames every reply; 204 has none (RFC 9110 8.6). */
	if (status != HTTP_NO_CONTENT) {
		char length[24];

		snprintf(length, sizeof(length), "%zu", len);
		evhttp_remove_header(out, "Content-Length");
		evhttp_add_header(out, "Content-Length", length);
	}
	/* HEAD: the length GET would send, and no body (RFC 9110 9.3.2);
	 * a body would be read as the start of the next response. */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
		buf = NULL;
	http_last_status = status;
	evhttp_send_reply(req, status, reason, buf);
}

/* Bearer realm="...", error="...", error_description="..." (RFC 6750 3).
 * Every value here is a fixed string, so no quoting issue can arise. */
static void
add_challenge(struct evhttp_request *req, const struct http_answer *a,
    const char *description, const char *scope)
{
	char value[512];
	int n;

	n = snprintf(value, sizeof(value), "%s realm=\"%s\"",
	    a->basic ? "Basic" : "Bearer", http_realm);
	if (a->token_error && n > 0 && (size_t)n < sizeof(value))
		n += snprintf(value + n, sizeof(value) - (size_t)n,
		    ", error=\"%s\", error_description=\"%s\"", a->error,
		    description);
	if (scope != NULL && n > 0 && (size_t)n < sizeof(value))
		snprintf(value + n, sizeof(value) - (size_t)n, ", scope=\"%s\"",
		    scope);
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "WWW-Authenticate", value);
}

static void
reply_error(struct evhttp_request *req, const struct err *e,
    const char *description, int retry_after)
{
	const struct http_answer *a = answer_for(e->code);
	struct json_object *body = json_object_new_object();
	char path[256] = "-";

	if (description == NULL)
		description = a->description;
	if (http_request_path(req, path, sizeof(path)) == -1)
		strcpy(path, "-");
	log_msg(a->status >= 500 ? LOG_ERROR : LOG_INFO, "%d %s %s: %s",
	    a->status, path, err_code_name(e->code), e->msg);
	if (a->challenge)
		add_challenge(req, a, description, NULL);
	if (retry_after > 0) {
		char secs[24];
		snprintf(secs, sizeof(secs), "%d", retry_after);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", secs);
	}
	if (body != NULL) {
		json_object_object_add(
		    body, "error", json_object_new_string(a->error));
		json_object_object_add(body, "error_description",
		    json_object_new_string(description));
	}
	/* An error is about this request only: never stored (RFC 6749 5.2
	 * answers, and a 404 would otherwise be heuristically cacheable). */
	http_reply_json(req, a->status, body, HTTP_NO_STORE);
}

void
http_reply_error(struct evhttp_request *req, const struct err *e)
{
	reply_error(req, e, NULL, 0);
}

void
http_reply_error_desc(
    struct evhttp_request *req, const struct err *e, const char *description)
{
	reply_error(req, e, description, 0);
}

void
http_reply_error_retry(
    struct evhttp_request *req, const struct err *e, int retry_after)
{
	reply_error(req, e, NULL, retry_after);
}

void
http_reply_insufficient_scope(struct evhttp_request *req, const char *perm)
{
	const struct http_answer *a = &http_answers[ERR_INSUFFICIENT_SCOPE];
	struct json_object *body = json_object_new_object();
	char description[160];

	/* perm comes from our own routes.json, never from the request. */
	snprintf(description, sizeof(description),
	    "the token lacks the required permission %s", perm);
	add_challenge(req, a, a->description, perm);
	if (body != NULL) {
		json_object_object_add(
		    body, "error", json_object_new_string(a->error));
		json_object_object_add(body, "error_description",
		    json_object_new_string(description));
		json_object_object_add(
		    body, "required", json_object_new_string(perm));
	}
	http_reply_json(req, 403, body, 0);
}

int
http_request_path(struct evhttp_request *req, char *buf, size_t len)
{
	return http_target_path(evhttp_request_get_uri(req), buf, len);
}

int
http_target_path(const char *uri, char *buf, size_t len)
{
	size_t n;

	/* A path and a query, never a fragment (RFC 9112 3.2.1). The path is
	 * used exactly as received, never percent-decoded, so /%61dmin is
	 * not /admin. */
	if (uri == NULL || strchr(uri, '#') != NULL)
		return -1;
	/* Absolute-form, which a server MUST accept (RFC 9112 3.2.2): the
	 * path after the authority; an empty one is "/" (RFC 9110 4.2.3). */
	if (strncasecmp(uri, "http://", 7) == 0 ||
	    strncasecmp(uri, "https://", 8) == 0) {
		uri = strstr(uri, "://") + 3;
		uri += strcspn(uri, "/?");
		if (uri[0] != '/') {
			if (len < 2)
				return -1;
			memcpy(buf, "/", 2);
			return 0;
		}
	}
	if (uri[0] != '/')
		return -1;
	n = strcspn(uri, "?");
	if (n >= len)
		return -1;
	memcpy(buf, uri, n);
	buf[n] = '\0';
	return 0;
}

static const struct {
	enum evhttp_cmd_type method;
	const char *name;
} http_methods[] = {
	{ EVHTTP_REQ_GET, "GET" },
	{ EVHTTP_REQ_HEAD, "HEAD" },
	{ EVHTTP_REQ_POST, "POST" },
	{ EVHTTP_REQ_PUT, "PUT" },
	{ EVHTTP_REQ_DELETE, "DELETE" },
	{ EVHTTP_REQ_OPTIONS, "OPTIONS" },
	{ EVHTTP_REQ_TRACE, "TRACE" },
	{ EVHTTP_REQ_CONNECT, "CONNECT" },
	{ EVHTTP_REQ_PATCH, "PATCH" },
};

static void
append_allow(char *allow, size_t len, enum evhttp_cmd_type method)
{
	for (size_t i = 0; i < sizeof(http_methods) / sizeof(*http_methods);
	     i++) {
		if (http_methods[i].method != method)
			continue;
		if (strstr(allow, http_methods[i].name) != NULL)
			return; /* "GET" inside "GET, HEAD": already listed */
		if (allow[0] != '\0')
			strncat(allow, ", ", len - strlen(allow) - 1);
		strncat(allow, http_methods[i].name, len - strlen(allow) - 1);
	}
}

/* token = 1*tchar (RFC 9110 5.6.2): a field name with a space or a tab
 * in it is the "Host : x" form RFC 9112 5.1 says to reject. */
static bool
is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		        (*s >= '0' && *s <= '9') ||
		        strchr("!#$%&'*+-.^_`|~", *s) != NULL))
			return false;
	return true;
}

static bool
is_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

void
http_set_header_limit(struct evhttp *http, size_t max_headers)
{
	/* libevent refuses a header block past its own limit with an HTML
	 * page that no callback can replace (2.1): keep it well above ours,
	 * which http_request_check enforces with a JSON answer. */
	size_t wire = max_headers * 8;

	if (wire < HTTP_WIRE_HEADER_FLOOR)
		wire = HTTP_WIRE_HEADER_FLOOR;
	evhttp_set_max_headers_size(http, (ev_ssize_t)wire);
}

int
http_request_check(
    struct evhttp_request *req, size_t max_headers, struct err *e)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *length = NULL;
	size_t size = 0;
	int hosts = 0;

	for (struct evkeyval *kv = h->tqh_first; kv != NULL;
	     kv = kv->next.tqe_next) {
		/* As libevent counts it: one "name: value" line each. */
		size += strlen(kv->key) + strlen(kv->value) + 2;
		if (!is_token(kv->key))
			return err_set(e, ERR_INVALID_REQUEST,
			    "header field name is not a token");
		if (strcasecmp(kv->key, "Host") == 0) {
			hosts++;
		} else if (strcasecmp(kv->key, "Content-Length") == 0) {
			/* 1*DIGIT (RFC 9110 8.6), one value (RFC 9112 6.3). */
			if (!is_digits(kv->value) ||
			    (length != NULL && strcmp(length, kv->value) != 0))
				return err_set(e, ERR_INVALID_REQUEST,
				    "Content-Length invalid or repeated");
			length = kv->value;
		}
	}
	if (max_headers > 0 && size > max_headers)
		return err_set(
		    e, ERR_INVALID_REQUEST, "headers of %zu bytes", size);
	/* RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one before. */
	if (hosts > 1 || (hosts == 0 && (req->major > 1 || req->minor >= 1)))
		return err_set(
		    e, ERR_INVALID_REQUEST, "Host header missing or repeated");
	return 0;
}

void
http_reply_bad_framing(struct evhttp_request *req, const struct err *e)
{
	/* The framing is in doubt (RFC 9112 6.3): what follows on this
	 * connection may be another message smuggled in, so it closes. */
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Connection", "close");
	http_reply_error(req, e);
}

void
http_dispatch(struct evhttp_request *req, const struct route *routes, size_t n,
    size_t max_headers, void *arg)
{
	struct err e = { 0 };

	if (http_request_check(req, max_headers, &e) == -1)
		http_reply_bad_framing(req, &e);
	else
		http_route(req, routes, n, arg);
}

void
http_route(
    struct evhttp_request *req, const struct route *routes, size_t n, void *arg)
{
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	struct err e = { 0 };
	char path[1024], allow[128] = "";

	http_matched = NULL;
	if (http_request_path(req, path, sizeof(path)) == -1) {
		err_set(&e, ERR_INVALID_REQUEST, "request target not usable");
		http_reply_error(req, &e);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(routes[i].path, path) != 0)
			continue;
		http_matched = routes[i].path;
		/* HEAD is GET without a body (RFC 9110 9.3.2); evhttp drops
		 * the body of a reply to HEAD. */
		if (routes[i].method == method ||
		    (method == EVHTTP_REQ_HEAD &&
		        routes[i].method == EVHTTP_REQ_GET)) {
			routes[i].handler(req, arg);
			return;
		}
		append_allow(allow, sizeof(allow), routes[i].method);
		if (routes[i].method == EVHTTP_REQ_GET)
			append_allow(allow, sizeof(allow), EVHTTP_REQ_HEAD);
	}
	if (allow[0] == '\0') {
		err_set(&e, ERR_NOT_FOUND, "no route");
		http_reply_error(req, &e);
		return;
	}
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Allow", allow);
	err_set(&e, ERR_METHOD, "method not allowed");
	http_reply_error(req, &e);
}

void
http_serve(struct evhttp *http, http_handler cb, void *arg)
{
	/* Accept every method, so 405 and 404 are ours, never libevent's
	 * 501. */
	evhttp_set_allowed_methods(
	    http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	              EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	              EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(http, cb, arg);
}

int
http_read_json(struct evhttp_request *req, size_t max, struct json_object **out,
    struct err *e)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *data;

	if (len > max)
		return err_set(
		    e, ERR_PAYLOAD_TOO_LARGE, "body of %zu bytes", len);
	if (len == 0)
		return err_set(e, ERR_INVALID_REQUEST, "empty body");
	if ((data = (const char *)evbuffer_pullup(in, -1)) == NULL)
		return err_set(e, ERR_NOMEM, "body pullup");
	if (json_parse_strict(data, len, JSON_DEFAULT_MAX_DEPTH,
	        ERR_INVALID_REQUEST, out, e) == -1)
		return -1;
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return err_set(e, ERR_INVALID_REQUEST, "body is not an object");
	}
	return 0;
}

/* b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 * (RFC 6750 2.1). A table: every byte of every token is looked at. */
static const bool b64token_char[256] = {
	['A' ... 'Z'] = true,
	['a' ... 'z'] = true,
	['0' ... '9'] = true,
	['-'] = true,
	['.'] = true,
	['_'] = true,
	['~'] = true,
	['+'] = true,
	['/'] = true,
};

static bool
is_b64token(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && b64token_char[(unsigned char)s[i]])
		i++;
	if (i == 0)
		return false;
	while (i < len && s[i] == '=')
		i++;
	return i == len;
}

int
http_bearer_token(
    struct evhttp_request *req, const char **token, size_t *len, struct err *e)
{
	struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
	const char *value = NULL, *p;
	struct evkeyval *h;
	size_t n;

	for (h = headers->tqh_first; h != NULL; h = h->next.tqe_next) {
		if (strcasecmp(h->key, "Authorization") != 0)
			continue;
		if (value != NULL)
			return err_set(e, ERR_BEARER_MALFORMED,
			    "repeated Authorization header");
		value = h->value;
	}
	if (value == NULL)
		return err_set(e, ERR_TOKEN_MISSING, "no Authorization header");
	/* The scheme is case-insensitive (RFC 9110 11.1); another scheme
	 * means no Bearer credentials at all. */
	if (strncasecmp(value, "Bearer", 6) != 0 ||
	    (value[6] != ' ' && value[6] != '\0'))
		return err_set(e, ERR_TOKEN_MISSING, "not a Bearer credential");
	p = value + 6;
	if (*p != ' ')
		return err_set(e, ERR_BEARER_MALFORMED, "Bearer without token");
	while (*p == ' ')
		p++;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (!is_b64token(p, n))
		return err_set(e, ERR_BEARER_MALFORMED,
		    "Bearer token is not one b64token");
	*token = p;
	*len = n;
	return 0;
}

const char *
http_route_matched(void)
{
	return http_matched;
}

int
http_reply_status(void)
{
	return http_last_status;
}

void
http_reply_status_reset(void)
{
	http_last_status = 0;
	http_matched = NULL;
}

/* "a.b.c.d", "a.b.c.d/n", "x::y", "x::y/n" into c. -1 if not one. */
static int
parse_cidr(const char *text, struct http_cidr *c)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	unsigned long bits;
	char *end;

	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, text, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, c->addr) == 1)
		c->af = AF_INET;
	else if (inet_pton(AF_INET6, host, c->addr) == 1)
		c->af = AF_INET6;
	else
		return -1;
	c->bits = c->af == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		bits = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || bits > c->bits)
			return -1;
		c->bits = (unsigned)bits;
	}
	return 0;
}

int
http_set_trusted_proxies(char *const *cidrs, struct err *e)
{
	size_t n = 0;

	for (; cidrs != NULL && cidrs[n] != NULL; n++) {
		if (n >= HTTP_MAX_PROXIES)
			return err_set(e, ERR_CONFIG,
			    "trusted_proxies: at most %d entries",
			    HTTP_MAX_PROXIES);
		if (parse_cidr(cidrs[n], &http_proxies[n]) == -1)
			return err_set(e, ERR_CONFIG,
			    "trusted_proxies: \"%.64s\" is not an address or "
			    "CIDR",
			    cidrs[n]);
	}
	http_n_proxies = n;
	return 0;
}

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is its IPv4 address. */
static bool
text_to_addr(const char *text, int *af, unsigned char addr[16])
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (inet_pton(AF_INET, text, addr) == 1) {
		*af = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, addr) != 1)
		return false;
	*af = AF_INET6;
	if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
		memmove(addr, addr + 12, 4);
		*af = AF_INET;
	}
	return true;
}

static bool
is_trusted(const char *text)
{
	unsigned char a[16];
	int af;

	if (http_n_proxies == 0 || !text_to_addr(text, &af, a))
		return false;
	for (size_t i = 0; i < http_n_proxies; i++) {
		const struct http_cidr *c = &http_proxies[i];
		unsigned full = c->bits / 8, rest = c->bits % 8;

		if (c->af != af || memcmp(a, c->addr, full) != 0)
			continue;
		if (rest == 0 ||
		    ((a[full] ^ c->addr[full]) & (0xff << (8 - rest))) == 0)
			return true;
	}
	return false;
}

/* The rightmost X-Forwarded-For entry that is not a trusted proxy, over
 * every X-Forwarded-For field in order (RFC 7239 4 describes the chain
 * for Forwarded; X-Forwarded-For is its older form). 0 if one was found
 * and is an address; -1 otherwise (the peer stays the client). */
static int
forwarded_for(struct evhttp_request *req, char *buf, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	char chain[1024] = "", *p, *entry;
	size_t used = 0;

	for (struct evkeyval *kv = h->tqh_first; kv != NULL;
	     kv = kv->next.tqe_next) {
		size_t n = strlen(kv->value);
		if (strcasecmp(kv->key, "X-Forwarded-For") != 0)
			continue;
		if (used + n + 2 > sizeof(chain))
			return -1; /* longer than any honest chain */
		if (used > 0)
			chain[used++] = ',';
		memcpy(chain + used, kv->value, n + 1);
		used += n;
	}
	if (used == 0)
		return -1;
	for (;;) {
		unsigned char a[16];
		int af;

		p = strrchr(chain, ',');
		entry = p != NULL ? p + 1 : chain;
		while (*entry == ' ' || *entry == '\t')
			entry++;
		for (char *t = entry + strlen(entry);
		     t > entry && (t[-1] == ' ' || t[-1] == '\t');)
			*--t = '\0';
		if (!text_to_addr(entry, &af, a))
			return -1;
		if (!is_trusted(entry) || p == NULL) {
			snprintf(buf, len, "%s", entry);
			return 0;
		}
		*p = '\0';
	}
}

void
http_client_addr(struct evhttp_request *req, char *buf, size_t len)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t port = 0;

	const char *shown;
	size_t n;

	if (conn != NULL)
		evhttp_connection_get_peer(conn, &addr, &port);
	shown = addr != NULL ? addr : "unknown";
	if (len == 0)
		return;
	n = strlen(shown);
	if (n >= len)
		n = len - 1;
	memcpy(buf, shown, n);
	buf[n] = '\0';
	/* Only a trusted peer's word is taken for who the client is. */
	if (addr != NULL && is_trusted(addr))
		(void)forwarded_for(req, buf, len);
}

size_t
http_error_bytes(enum err_code code, char *buf, size_t len)
{
	const struct http_answer *a = answer_for(code);
	char body[256];
	int n, m;

	/* Written without evhttp, whose request is still half read: the
	 * connection closes after it (RFC 9110 15.5.9). */
	n = snprintf(body, sizeof(body),
	    "{\"error\":\"%s\",\"error_description\":\"%s\"}\n", a->error,
	    a->description);
	if (n < 0 || (size_t)n >= sizeof(body))
		return 0;
	m = snprintf(buf, len,
	    "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
	    "Cache-Control: no-store\r\nConnection: close\r\n"
	    "Content-Length: %d\r\n\r\n%s",
	    a->status, reason_for(a->status), n, body);
	return m > 0 && (size_t)m < len ? (size_t)m : 0;
}
