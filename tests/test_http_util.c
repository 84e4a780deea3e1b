/* Tests for http_util over real HTTP on loopback: routing (404, 405 with
 * Allow, exact raw paths), error answers, Bearer parsing, JSON bodies. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "http_util.h"
#include "test.h"

static struct event_base *base;
static struct evhttp *server;
static int port;

/* What the last client request got back. */
static struct {
	int status;
	char body[2048];
	char www_auth[512];
	char allow[128];
	char cache_control[64];
	char retry_after[16];
} got;

static void
route_echo_token(struct evhttp_request *req, void *arg)
{
	const char *token;
	size_t len;
	struct err e = { 0 };

	(void)arg;
	if (http_bearer_token(req, &token, &len, &e) == -1) {
		http_reply_error(req, &e);
		return;
	}
	http_reply_json(req, HTTP_OK,
	    json_object_new_string_len(token, (int)len), HTTP_NO_STORE);
}

static void
route_body(struct evhttp_request *req, void *arg)
{
	struct json_object *body = NULL;
	struct err e = { 0 };

	(void)arg;
	if (http_read_json(req, 64, &body, &e) == -1) {
		http_reply_error(req, &e);
		return;
	}
	http_reply_json(req, HTTP_OK, body, 0);
}

static void
route_scope(struct evhttp_request *req, void *arg)
{
	(void)arg;
	http_reply_insufficient_scope(req, "read:admin_panel");
}

static void
route_throttled(struct evhttp_request *req, void *arg)
{
	struct err e = { 0 };

	(void)arg;
	err_set(&e, ERR_THROTTLED, "user x throttled");
	http_reply_error_retry(req, &e, 7);
}

static void
route_internal(struct evhttp_request *req, void *arg)
{
	struct err e = { 0 };

	(void)arg;
	err_set(&e, ERR_IO, "SELECT secret FROM users failed");
	http_reply_error(req, &e);
}

static const struct route test_routes[] = {
	{ EVHTTP_REQ_GET, "/token", route_echo_token },
	{ EVHTTP_REQ_POST, "/body", route_body },
	{ EVHTTP_REQ_GET, "/admin", route_scope },
	{ EVHTTP_REQ_DELETE, "/admin", route_scope },
	{ EVHTTP_REQ_GET, "/throttled", route_throttled },
	{ EVHTTP_REQ_GET, "/internal", route_internal },
};

static void
copy_header(struct evkeyvalq *h, const char *name, char *dst, size_t len)
{
	const char *v = evhttp_find_header(h, name);
	snprintf(dst, len, "%s", v != NULL ? v : "");
}

static void
on_response(struct evhttp_request *req, void *arg)
{
	(void)arg;
	memset(&got, 0, sizeof(got));
	if (req != NULL) {
		struct evkeyvalq *h = evhttp_request_get_input_headers(req);
		struct evbuffer *b = evhttp_request_get_input_buffer(req);
		got.status = evhttp_request_get_response_code(req);
		evbuffer_copyout(b, got.body, sizeof(got.body) - 1);
		copy_header(
		    h, "WWW-Authenticate", got.www_auth, sizeof(got.www_auth));
		copy_header(h, "Allow", got.allow, sizeof(got.allow));
		copy_header(h, "Cache-Control", got.cache_control,
		    sizeof(got.cache_control));
		copy_header(
		    h, "Retry-After", got.retry_after, sizeof(got.retry_after));
	}
	event_base_loopbreak(base);
}

/* Sends one request; auth2 adds a second Authorization header. */
static void
fetch(enum evhttp_cmd_type method, const char *uri, const char *auth,
    const char *auth2, const char *body)
{
	struct evhttp_connection *conn = evhttp_connection_base_new(
	    base, NULL, "127.0.0.1", (ev_uint16_t)port);
	struct evhttp_request *req = evhttp_request_new(on_response, NULL);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Host", "127.0.0.1");
	if (auth != NULL)
		evhttp_add_header(h, "Authorization", auth);
	if (auth2 != NULL)
		evhttp_add_header(h, "Authorization", auth2);
	if (body != NULL)
		evbuffer_add(
		    evhttp_request_get_output_buffer(req), body, strlen(body));
	evhttp_make_request(conn, req, method, uri);
	event_base_dispatch(base);
	evhttp_connection_free(conn);
}

static void
test_routing(void)
{
	fetch(EVHTTP_REQ_GET, "/nope", NULL, NULL, NULL);
	CHECK(got.status == 404);
	CHECK(strstr(got.body, "\"error\":\"not_found\"") != NULL);
	fetch(EVHTTP_REQ_PUT, "/admin", NULL, NULL, NULL);
	CHECK(got.status == 405);
	CHECK(strcmp(got.allow, "GET, HEAD, DELETE") == 0);
	fetch(EVHTTP_REQ_PATCH, "/admin", NULL, NULL, NULL);
	CHECK(got.status == 405); /* never libevent's own 501 */
	/* The raw path is matched: no percent-decoding, no query. */
	fetch(EVHTTP_REQ_GET, "/%61dmin", NULL, NULL, NULL);
	CHECK(got.status == 404);
	fetch(EVHTTP_REQ_GET, "/admin/", NULL, NULL, NULL);
	CHECK(got.status == 404);
	fetch(EVHTTP_REQ_GET, "/admin?x=1", NULL, NULL, NULL);
	CHECK(got.status == 403);
	/* A request target never holds a fragment (RFC 9112 3.2.1): no
	 * guess at which path was meant. */
	fetch(EVHTTP_REQ_GET, "/admin#x", NULL, NULL, NULL);
	CHECK(got.status == 400);
	fetch(EVHTTP_REQ_GET, "/admin?x=#", NULL, NULL, NULL);
	CHECK(got.status == 400);
	/* Absolute-form (RFC 9112 3.2.2) routes by its path alone. */
	fetch(EVHTTP_REQ_GET, "http://127.0.0.1/admin?x=1", NULL, NULL, NULL);
	CHECK(got.status == 403);
	fetch(EVHTTP_REQ_GET, "HTTP://h:1/%61dmin", NULL, NULL, NULL);
	CHECK(got.status == 404);
	fetch(EVHTTP_REQ_GET, "http://h", NULL, NULL, NULL);
	CHECK(got.status == 404);
	fetch(EVHTTP_REQ_GET, "ftp://h/admin", NULL, NULL, NULL);
	CHECK(got.status == 400);
}

static void
test_bearer(void)
{
	fetch(EVHTTP_REQ_GET, "/token", "Bearer abc.def-_~+/=", NULL, NULL);
	CHECK(got.status == 200);
	CHECK(strcmp(got.body, "\"abc.def-_~+/=\"\n") == 0);
	CHECK(strcmp(got.cache_control, "no-store") == 0);
	fetch(EVHTTP_REQ_GET, "/token", "bEaReR   tok", NULL, NULL);
	CHECK(got.status == 200);

	fetch(EVHTTP_REQ_GET, "/token", NULL, NULL, NULL);
	CHECK(got.status == 401);
	CHECK(strcmp(got.www_auth, "Bearer realm=\"test\"") == 0);
	fetch(EVHTTP_REQ_GET, "/token", "Basic dXNlcjpwYXNz", NULL, NULL);
	CHECK(got.status == 401);
	CHECK(strcmp(got.www_auth, "Bearer realm=\"test\"") == 0);
	fetch(EVHTTP_REQ_GET, "/token", "Bearertok", NULL, NULL);
	CHECK(got.status == 401);

	fetch(EVHTTP_REQ_GET, "/token", "Bearer a", "Bearer a", NULL);
	CHECK(got.status == 400);
	CHECK(strstr(got.www_auth, "error=\"invalid_request\"") != NULL);
	fetch(EVHTTP_REQ_GET, "/token", "Bearer", NULL, NULL);
	CHECK(got.status == 400);
	fetch(EVHTTP_REQ_GET, "/token", "Bearer a b", NULL, NULL);
	CHECK(got.status == 400);
	fetch(EVHTTP_REQ_GET, "/token", "Bearer a=b", NULL, NULL);
	CHECK(got.status == 400);
	fetch(EVHTTP_REQ_GET, "/token", "Bearer a\"b", NULL, NULL);
	CHECK(got.status == 400);
}

static void
test_json_body(void)
{
	fetch(EVHTTP_REQ_POST, "/body", NULL, NULL, "{\"a\":\"b\"}");
	CHECK(got.status == 200);
	fetch(EVHTTP_REQ_POST, "/body", NULL, NULL, "{\"a\":\"b\"} x");
	CHECK(got.status == 400);
	CHECK(strstr(got.body, "\"error\":\"invalid_request\"") != NULL);
	fetch(EVHTTP_REQ_POST, "/body", NULL, NULL, "[1]");
	CHECK(got.status == 400);
	fetch(EVHTTP_REQ_POST, "/body", NULL, NULL, "");
	CHECK(got.status == 400);
	fetch(EVHTTP_REQ_POST, "/body", NULL, NULL,
	    "{\"a\":"
	    "\"01234567890123456789012345678901234567890123456789012345678\"}");
	CHECK(got.status == 413);
}

static void
test_error_answers(void)
{
	fetch(EVHTTP_REQ_GET, "/admin", NULL, NULL, NULL);
	CHECK(got.status == 403);
	CHECK(strcmp(got.www_auth,
	          "Bearer realm=\"test\", error=\"insufficient_scope\", "
	          "error_description=\"the token lacks the required "
	          "permission\", scope=\"read:admin_panel\"") == 0);
	CHECK(strstr(got.body, "read:admin_panel") != NULL);
	fetch(EVHTTP_REQ_GET, "/throttled", NULL, NULL, NULL);
	CHECK(got.status == 429);
	CHECK(strcmp(got.retry_after, "7") == 0);
	CHECK(strstr(got.body, "user x") == NULL);
	fetch(EVHTTP_REQ_GET, "/internal", NULL, NULL, NULL);
	CHECK(got.status == 500);
	CHECK(strstr(got.body, "SELECT") == NULL);
	CHECK(strstr(got.body, "server_error") != NULL);
}

static void
test_status_table(void)
{
	CHECK(http_status_for(ERR_TOKEN_EXPIRED) == 401);
	CHECK(http_status_for(ERR_INVALID_GRANT) == 400);
	CHECK(http_status_for(ERR_INVALID_CREDENTIALS) == 401);
	CHECK(http_status_for(ERR_INSUFFICIENT_SCOPE) == 403);
	CHECK(http_status_for(ERR_NOMEM) == 500);
	CHECK(http_status_for(ERR_OK) == 500);
}

static void
test_dispatch(struct evhttp_request *req, void *arg)
{
	http_dispatch(req, test_routes,
	    sizeof(test_routes) / sizeof(*test_routes), 0, arg);
}

int
main(void)
{
	struct evhttp_bound_socket *bound;
	struct sockaddr_storage ss;
	ev_socklen_t sslen = sizeof(ss);

	base = event_base_new();
	server = evhttp_new(base);
	http_set_realm("test");
	http_serve(server, test_dispatch, NULL);
	bound = evhttp_bind_socket_with_handle(server, "127.0.0.1", 0);
	if (bound == NULL)
		return 1;
	getsockname(
	    evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &sslen);
	port = ntohs(((struct sockaddr_in *)&ss)->sin_port);

	RUN(test_routing);
	RUN(test_bearer);
	RUN(test_json_body);
	RUN(test_error_answers);
	RUN(test_status_table);

	evhttp_free(server);
	event_base_free(base);
	return test_report();
}
