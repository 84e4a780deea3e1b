/* test_cors: one exact origin, preflights, exposed headers, Vary. */
#include <string.h>

#include "cors.h"
#include "http_loop.h"
#include "test.h"

#define ORIGIN "http://127.0.0.1:5000"

static struct cors_policy policy = { ORIGIN };

/* A protected route's 401, after cors_handle as the resource service
 * calls it. */
static void
serve(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);

	(void)arg;
	if (cors_handle(&policy, req))
		return;
	evhttp_add_header(
	    out, "WWW-Authenticate", "Bearer realm=\"resource_service\"");
	evhttp_send_reply(req, 401, "Unauthorized", NULL);
}

static void
test_check_origin(void)
{
	static const char *const good[] = { "http://127.0.0.1:5000",
		"https://demo.example", "http://[::1]:5000",
		"http://localhost" };
	static const char *const bad[] = { "*", "null", "http://", "ftp://x",
		"http://x/", "http://Example", "http://x/path", "http://:80",
		"http://a b" };

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		struct err e = { 0 };
		CHECK(cors_check_origin(good[i], &e) == 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct err e = { 0 };
		CHECK(cors_check_origin(bad[i], &e) == -1);
		CHECK(e.code == ERR_CONFIG);
	}
}

static void
test_preflight(void)
{
	const char *ok[] = { "Origin", ORIGIN, "Access-Control-Request-Method",
		"GET", "Access-Control-Request-Headers", "authorization",
		NULL };
	const char *del[] = { "Origin", ORIGIN, "Access-Control-Request-Method",
		"DELETE", NULL };
	const char *put[] = { "Origin", ORIGIN, "Access-Control-Request-Method",
		"PUT", NULL };
	const char *hdr[] = { "Origin", ORIGIN, "Access-Control-Request-Method",
		"GET", "Access-Control-Request-Headers",
		"authorization, x-evil", NULL };
	const char *other[] = { "Origin", "http://evil.example",
		"Access-Control-Request-Method", "GET", NULL };
	struct http_loop l;

	CHECK(http_loop_start(&l, serve, NULL) == 0);
	CHECK(http_loop_request(&l, EVHTTP_REQ_OPTIONS, "/admin", ok) == 0);
	CHECK(l.reply.status == 204);
	CHECK(strcmp(http_loop_header(&l, "Access-Control-Allow-Origin"),
	          ORIGIN) == 0);
	CHECK(strstr(http_loop_header(&l, "Access-Control-Allow-Methods"),
	          "GET") != NULL);
	CHECK(strcmp(http_loop_header(&l, "Access-Control-Allow-Headers"),
	          "Authorization") == 0);
	CHECK(http_loop_header(&l, "Access-Control-Max-Age") != NULL);
	CHECK(http_loop_header(&l, "Access-Control-Allow-Credentials") == NULL);
	CHECK(strcmp(http_loop_header(&l, "Vary"), "Origin") == 0);

	CHECK(http_loop_request(&l, EVHTTP_REQ_OPTIONS, "/admin/users", del) ==
	      0);
	CHECK(l.reply.status == 204);

	/* Asking for more than allowed, or from another origin: no CORS
	 * answer, the request goes on to the route (which refuses it). */
	CHECK(http_loop_request(&l, EVHTTP_REQ_OPTIONS, "/admin", put) == 0);
	CHECK(l.reply.status == 401);
	CHECK(http_loop_header(&l, "Access-Control-Allow-Methods") == NULL);
	CHECK(http_loop_request(&l, EVHTTP_REQ_OPTIONS, "/admin", hdr) == 0);
	CHECK(http_loop_header(&l, "Access-Control-Allow-Methods") == NULL);
	CHECK(http_loop_request(&l, EVHTTP_REQ_OPTIONS, "/admin", other) == 0);
	CHECK(http_loop_header(&l, "Access-Control-Allow-Origin") == NULL);
	http_loop_free(&l);
}

static void
test_actual_requests(void)
{
	const char *mine[] = { "Origin", ORIGIN, NULL };
	const char *lookalike[] = { "Origin", ORIGIN ".evil.example", NULL };
	const char *prefix[] = { "Origin", "http://127.0.0.1:500", NULL };
	const char *twice[] = { "Origin", ORIGIN, "Origin", ORIGIN, NULL };
	struct http_loop l;

	CHECK(http_loop_start(&l, serve, NULL) == 0);
	CHECK(http_loop_request(&l, EVHTTP_REQ_GET, "/admin", mine) == 0);
	CHECK(l.reply.status == 401);
	CHECK(strcmp(http_loop_header(&l, "Access-Control-Allow-Origin"),
	          ORIGIN) == 0);
	CHECK(strstr(http_loop_header(&l, "Access-Control-Expose-Headers"),
	          "WWW-Authenticate") != NULL);
	CHECK(strcmp(http_loop_header(&l, "Vary"), "Origin") == 0);

	CHECK(http_loop_request(&l, EVHTTP_REQ_GET, "/admin", lookalike) == 0);
	CHECK(http_loop_header(&l, "Access-Control-Allow-Origin") == NULL);
	CHECK(http_loop_header(&l, "Vary") != NULL);
	CHECK(http_loop_request(&l, EVHTTP_REQ_GET, "/admin", prefix) == 0);
	CHECK(http_loop_header(&l, "Access-Control-Allow-Origin") == NULL);
	CHECK(http_loop_request(&l, EVHTTP_REQ_GET, "/admin", twice) == 0);
	CHECK(http_loop_header(&l, "Access-Control-Allow-Origin") == NULL);
	CHECK(http_loop_request(&l, EVHTTP_REQ_GET, "/admin", NULL) == 0);
	CHECK(http_loop_header(&l, "Access-Control-Allow-Origin") == NULL);
	CHECK(http_loop_header(&l, "Vary") != NULL);

	/* CORS off: not a header of it. */
	policy.origin = "";
	CHECK(http_loop_request(&l, EVHTTP_REQ_GET, "/admin", mine) == 0);
	CHECK(http_loop_header(&l, "Access-Control-Allow-Origin") == NULL);
	CHECK(http_loop_header(&l, "Vary") == NULL);
	policy.origin = ORIGIN;
	http_loop_free(&l);
}

int
main(void)
{
	RUN(test_check_origin);
	RUN(test_preflight);
	RUN(test_actual_requests);
	return test_report();
}
