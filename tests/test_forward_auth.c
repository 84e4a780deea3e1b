/* test_forward_auth: the proxy side of the forward-auth endpoint: trusted
 * peers (loopback always, CIDR ranges, IPv4-mapped addresses), the
 * forwarded method and target headers (missing, repeated, disagreeing),
 * and the escaping of the user headers. Every refusal next to a positive
 * control. */
#include <arpa/inet.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <string.h>

#include "forward_auth.h"
#include "test.h"

static struct forward_auth_peers *
peers_of(char **list, struct err *e)
{
	struct forward_auth_peers *p = NULL;

	*e = (struct err){ 0 };
	if (forward_auth_peers_parse(
	        list, "resource.json", "forward_auth_peers", &p, e) == -1)
		return NULL;
	return p;
}

static bool
allowed(const struct forward_auth_peers *p, const char *addr)
{
	struct sockaddr_in in4 = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, addr, &in4.sin_addr) == 1)
		return forward_auth_addr_allowed(p, (struct sockaddr *)&in4);
	if (inet_pton(AF_INET6, addr, &in6.sin6_addr) == 1)
		return forward_auth_addr_allowed(p, (struct sockaddr *)&in6);
	abort();
}

static void
test_peers(void)
{
	char *list[] = { "10.1.0.0/16", "192.168.1.7", "fd00::/8",
		"172.16.0.0/12", NULL };
	char *none[] = { NULL };
	struct forward_auth_peers *p;
	struct err e;

	/* Loopback only by default. */
	p = peers_of(none, &e);
	CHECK(p != NULL);
	CHECK(allowed(p, "127.0.0.1"));
	CHECK(allowed(p, "127.3.2.1"));
	CHECK(allowed(p, "::1"));
	CHECK(allowed(p, "::ffff:127.0.0.1"));
	CHECK(!allowed(p, "10.1.2.3"));
	CHECK(!allowed(p, "::2"));
	CHECK(!allowed(NULL, "10.1.2.3"));
	CHECK(allowed(NULL, "127.0.0.1"));
	forward_auth_peers_free(p);

	p = peers_of(list, &e);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK(allowed(p, "10.1.0.0"));
	CHECK(allowed(p, "10.1.255.255"));
	CHECK(!allowed(p, "10.2.0.0"));
	CHECK(!allowed(p, "10.0.255.255"));
	CHECK(allowed(p, "192.168.1.7"));
	CHECK(!allowed(p, "192.168.1.8"));
	CHECK(allowed(p, "172.31.255.255"));
	CHECK(!allowed(p, "172.32.0.0"));
	CHECK(allowed(p, "::ffff:10.1.9.9"));
	CHECK(!allowed(p, "::ffff:10.9.9.9"));
	CHECK(allowed(p, "fdab::1"));
	CHECK(!allowed(p, "fe80::1"));
	/* A range holds addresses of its own family only: the same leading
	 * bytes in the other family are not in it. */
	CHECK(!allowed(p, "a01::1"));
	CHECK(!allowed(p, "253.0.0.1"));
	forward_auth_peers_free(p);
}

static bool
peers_refused(char *entry)
{
	char *list[] = { entry, NULL };
	struct forward_auth_peers *p;
	struct err e;

	p = peers_of(list, &e);
	forward_auth_peers_free(p);
	if (p != NULL || e.code != ERR_CONFIG ||
	    strstr(e.msg, "resource.json: forward_auth_peers: ") == NULL) {
		fprintf(stderr, "  for %s: \"%s\"\n", entry, e.msg);
		return false;
	}
	return true;
}

static void
test_peers_refused(void)
{
	char *many[FORWARD_AUTH_MAX_PEERS + 2];
	struct forward_auth_peers *p;
	struct err e;

	CHECK(peers_refused("10.0.0.0/33"));
	CHECK(peers_refused("10.0.0.0/"));
	CHECK(peers_refused("10.0.0.0/-1"));
	CHECK(peers_refused("10.0.0.0/8x"));
	CHECK(peers_refused("fd00::/129"));
	CHECK(peers_refused("10.0.0"));
	CHECK(peers_refused("example.org"));
	CHECK(peers_refused(""));
	CHECK(peers_refused("/8"));
	for (size_t i = 0; i < FORWARD_AUTH_MAX_PEERS + 1; i++)
		many[i] = "10.0.0.1";
	many[FORWARD_AUTH_MAX_PEERS + 1] = NULL;
	CHECK(peers_of(many, &e) == NULL && strstr(e.msg, "more than"));
	many[FORWARD_AUTH_MAX_PEERS] = NULL;
	CHECK((p = peers_of(many, &e)) != NULL);
	forward_auth_peers_free(p);
}

/* Builds a request with the given header pairs (name, value, ...). */
static struct evhttp_request *
request_with(const char *const *pairs, size_t n)
{
	struct evhttp_request *req = evhttp_request_new(NULL, NULL);

	for (size_t i = 0; i + 1 < n; i += 2)
		evhttp_add_header(evhttp_request_get_input_headers(req),
		    pairs[i], pairs[i + 1]);
	return req;
}

static int
target_of(const char *const *pairs, size_t n, struct forward_auth_target *t,
    char *uri, size_t len, struct err *e)
{
	struct evhttp_request *req = request_with(pairs, n);
	int rc;

	*e = (struct err){ 0 };
	rc = forward_auth_target(req, t, e);
	if (rc == 0)
		snprintf(uri, len, "%s", t->uri);
	evhttp_request_free(req);
	return rc;
}

#define PAIRS(...) ((const char *const[]){ __VA_ARGS__ })
#define NPAIRS(...)                                                            \
	(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *))
#define TARGET(t, uri, e, ...)                                                 \
	target_of(PAIRS(__VA_ARGS__), NPAIRS(__VA_ARGS__), (t), (uri),         \
	    sizeof(uri), (e))

static void
test_target(void)
{
	struct forward_auth_target t;
	char uri[256];
	struct err e;

	CHECK(TARGET(&t, uri, &e, "X-Original-Method", "DELETE",
	          "X-Original-URI", "/admin/users?x=1") == 0);
	CHECK(t.method == EVHTTP_REQ_DELETE && t.method_routable &&
	      strcmp(uri, "/admin/users?x=1") == 0);
	/* Traefik's spelling, names in any case. */
	CHECK(TARGET(&t, uri, &e, "x-forwarded-method", "GET",
	          "X-FORWARDED-URI", "/p") == 0);
	CHECK(t.method == EVHTTP_REQ_GET && strcmp(uri, "/p") == 0);
	/* Both spellings, agreeing: fine. */
	CHECK(TARGET(&t, uri, &e, "X-Original-Method", "GET",
	          "X-Forwarded-Method", "GET", "X-Original-URI", "/p",
	          "X-Forwarded-Uri", "/p") == 0);
	/* Disagreeing: a client's spoofed X-Forwarded-Uri is no guess. */
	CHECK(TARGET(&t, uri, &e, "X-Original-Method", "GET", "X-Original-URI",
	          "/admin", "X-Forwarded-Uri", "/public") == -1 &&
	      e.code == ERR_INVALID_REQUEST);
	CHECK(
	    TARGET(&t, uri, &e, "X-Original-Method", "GET",
	        "X-Forwarded-Method", "DELETE", "X-Original-URI", "/p") == -1 &&
	    e.code == ERR_INVALID_REQUEST);
	/* Repeated, missing, empty. */
	CHECK(TARGET(&t, uri, &e, "X-Original-Method", "GET", "X-Original-URI",
	          "/p", "X-Original-URI", "/p") == -1 &&
	      e.code == ERR_INVALID_REQUEST);
	CHECK(TARGET(&t, uri, &e, "X-Original-URI", "/p") == -1 &&
	      e.code == ERR_INVALID_REQUEST);
	CHECK(TARGET(&t, uri, &e, "X-Original-Method", "GET") == -1 &&
	      e.code == ERR_INVALID_REQUEST);
	CHECK(TARGET(&t, uri, &e, "X-Original-Method", "", "X-Original-URI",
	          "/p") == -1 &&
	      e.code == ERR_INVALID_REQUEST);
	/* A method no rule may name is read, and marked: it is denied. */
	CHECK(TARGET(&t, uri, &e, "X-Original-Method", "PROPFIND",
	          "X-Original-URI", "/p") == 0 &&
	      !t.method_routable);
	CHECK(TARGET(&t, uri, &e, "X-Original-Method", "get", "X-Original-URI",
	          "/p") == 0 &&
	      !t.method_routable);
	CHECK(TARGET(&t, uri, &e, "X-Original-Method", "TRACE",
	          "X-Original-URI", "/p") == 0 &&
	      !t.method_routable);
	CHECK(TARGET(&t, uri, &e, "X-Original-Method", "HEAD", "X-Original-URI",
	          "/p") == 0 &&
	      t.method_routable && t.method == EVHTTP_REQ_HEAD);
}

static void
test_escape(void)
{
	char out[64];

	CHECK(forward_auth_escape("user1", 5, out) == 5 &&
	      strcmp(out, "user1") == 0);
	/* CR LF cannot end the header and start another. */
	CHECK(forward_auth_escape("a\r\nX-Evil: 1", 12, out) == 18 &&
	      strcmp(out, "a%0D%0AX-Evil:%201") == 0);
	/* '%' itself, so the encoding is reversible; space, tab, NUL. */
	CHECK(forward_auth_escape("50% a\tb", 7, out) > 0 &&
	      strcmp(out, "50%25%20a%09b") == 0);
	CHECK(forward_auth_escape("a\0b", 3, out) == 5 &&
	      strcmp(out, "a%00b") == 0);
	/* UTF-8 and DEL byte by byte. */
	CHECK(forward_auth_escape("\xc3\xa9\x7f", 3, out) == 9 &&
	      strcmp(out, "%C3%A9%7F") == 0);
	CHECK(forward_auth_escape("", 0, out) == 0 && out[0] == '\0');
	/* Visible ASCII stays as it is, quotes and commas included. */
	CHECK(forward_auth_escape("\"a,b\";=~", 8, out) == 8 &&
	      strcmp(out, "\"a,b\";=~") == 0);
}

int
main(void)
{
	RUN(test_peers);
	RUN(test_peers_refused);
	RUN(test_target);
	RUN(test_escape);
	return test_report();
}
