/* http_util: the HTTP side both daemons share on top of libevent's evhttp:
 * an exact-path route table (404 / 405 with Allow), JSON replies, the one
 * table from error code to status, "error" and WWW-Authenticate, bounded
 * strict JSON bodies, and Bearer parsing per RFC 6750 section 2.1. */
#ifndef JWT_HTTP_UTIL_H
#define JWT_HTTP_UTIL_H

#include <event2/http.h>
#include <json-c/json.h>
#include <stddef.h>

#include "err.h"

#define HTTP_OK 200
#define HTTP_NO_CONTENT 204

/* Reply flags. */
#define HTTP_NO_STORE 0x1 /* Cache-Control: no-store, Pragma: no-cache */

typedef void (*http_handler)(struct evhttp_request *req, void *arg);

struct route {
	enum evhttp_cmd_type method;
	const char *path; /* matched exactly against the raw request path */
	http_handler handler;
};

/* The realm of every WWW-Authenticate this process sends, e.g.
 * "auth_service". Set once at start; a static string. */
void http_set_realm(const char *realm);

/* Every request to http, whatever its method (so 404 and 405 are ours,
 * never libevent's 501), goes to cb with arg. Both daemons serve so. */
void http_serve(struct evhttp *http, http_handler cb, void *arg);

/* Dispatches one request over a table: http_request_check (max_headers
 * as there), then http_route. */
void http_dispatch(struct evhttp_request *req, const struct route *routes,
    size_t n, size_t max_headers, void *arg);

/* The routing alone: handler, or 404, or 405 with Allow. For a callback
 * that made http_request_check itself (to answer a CORS preflight
 * between the two). */
void http_route(struct evhttp_request *req, const struct route *routes,
    size_t n, void *arg);

/* What libevent lets through but RFC 9112 refuses: a field name that is
 * not a token (5.1), no Host or several in HTTP/1.1 (3.2), a
 * Content-Length that is not 1*DIGIT or differs between fields (6.3); and
 * a header block over max_headers bytes (0: libevent's limit alone).
 * ERR_INVALID_REQUEST. */
int http_request_check(
    struct evhttp_request *req, size_t max_headers, struct err *e);

/* The smallest limit libevent is given for a header block. */
#define HTTP_WIRE_HEADER_FLOOR ((size_t)64 * 1024)

/* Sets libevent's header limit on http well above max_headers (8 times,
 * at least HTTP_WIRE_HEADER_FLOOR), so that max_headers itself is
 * answered by http_request_check in JSON, not by libevent in HTML. */
void http_set_header_limit(struct evhttp *http, size_t max_headers);

/* 400 for a request http_request_check refused, closing the connection:
 * what follows on it may be a message smuggled past a proxy. */
void http_reply_bad_framing(struct evhttp_request *req, const struct err *e);

/* The raw path of the request (before '?'), not percent-decoded, copied
 * into buf. -1 if it does not fit, holds a fragment, or the target is
 * neither origin-form nor http(s) absolute-form. */
int http_request_path(struct evhttp_request *req, char *buf, size_t len);

/* The same for a request-target given as text (uri may be NULL: -1), such
 * as the one a proxy forwards to an authorization endpoint. */
int http_target_path(const char *uri, char *buf, size_t len);

/* An event base for an HTTP server. evhttp turns a connection's read and
 * write interest on and off around every request; with the epoll
 * changelist those changes fold into one epoll_ctl per descriptor per loop
 * turn. Only for loops whose descriptors are never dup()ed (libevent's
 * caveat for the changelist); none of the pair's are. NULL on failure. */
struct event_base *http_event_base_new(void);

/* Sends buf (may be NULL) with its Content-Length, except on 204, and
 * without it for HEAD: evhttp frames no reply to CONNECT and writes a body
 * even for HEAD. Every reply of the pair goes through here. */
void http_send_framed(struct evhttp_request *req, int status,
    const char *reason, struct evbuffer *buf);

/* Sends body (json-c object, taken: put by this function) with
 * Content-Type: application/json, framed by http_send_framed. */
void http_reply_json(struct evhttp_request *req, int status,
    struct json_object *body, int flags);

/* Sends {"error","error_description"} for e->code via the one table, with
 * WWW-Authenticate on every 401 (RFC 9110 11.6.1) and the RFC 6750 error
 * attributes for token errors. A code without a mapping is a 500 whose body
 * says nothing of the cause. Logs e->msg at warn (5xx: error). */
void http_reply_error(struct evhttp_request *req, const struct err *e);

/* The same with a fixed public error_description chosen by the caller (a
 * static string: never e->msg, never request data). */
void http_reply_error_desc(
    struct evhttp_request *req, const struct err *e, const char *description);

/* The same with Retry-After: seconds (429, 503). */
void http_reply_error_retry(
    struct evhttp_request *req, const struct err *e, int retry_after);

/* 403 insufficient_scope naming the permission: challenge
 * Bearer realm="...", error="insufficient_scope", scope="perm" and body
 * {"error":"insufficient_scope","error_description":...,"required":perm}. */
void http_reply_insufficient_scope(
    struct evhttp_request *req, const char *perm);

/* Reads the request body as strict JSON (json_parse_strict) of at most max
 * bytes; the top level must be an object. Errors: ERR_INVALID_REQUEST,
 * ERR_PAYLOAD_TOO_LARGE. */
int http_read_json(struct evhttp_request *req, size_t max,
    struct json_object **out, struct err *e);

/* Exactly one Authorization header holding "Bearer" (case-insensitive),
 * one or more spaces, and one b64token (RFC 6750 2.1). No header:
 * ERR_TOKEN_MISSING (a scheme other than Bearer counts as no Bearer
 * credentials); a repeated header, an empty or malformed token:
 * ERR_BEARER_MALFORMED (400 invalid_request with a challenge). *token points
 * into the request's headers. */
int http_bearer_token(
    struct evhttp_request *req, const char **token, size_t *len, struct err *e);

/* The peer's address as text ("127.0.0.1"), into buf. */
void http_client_addr(struct evhttp_request *req, char *buf, size_t len);

/* A whole HTTP/1.1 error response for code, from the same table, with
 * Connection: close, into buf: for a connection whose request evhttp has
 * not finished reading (a 408). Its length, 0 if it does not fit. */
size_t http_error_bytes(enum err_code code, char *buf, size_t len);

/* The status code a reply for this error code would carry. */
int http_status_for(enum err_code code);

#endif
